//! The settings of a simulated OpenAdmin panel (which build, tokens, login
//! limit, API switch) and the plans it starts with.

use std::time::Duration;

use crate::hiding::debug_hiding;

/// Which autologin route the simulated build has (reading 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutologinStyle {
    /// Python-era: `CONNECT /api/users/{u}`; POST .../autologin is 404.
    Connect,
    /// Go-era: `POST /api/users/{u}/autologin`; CONNECT is 405.
    Post,
}

/// Settings of a simulated OpenAdmin panel.
#[derive(Clone)]
pub struct OpenAdminConfig {
    /// Admin username accepted by `POST /api/`.
    pub admin_username: String,
    /// Admin password accepted by `POST /api/`.
    pub admin_password: String,
    /// HS256 signing key of issued tokens.
    pub jwt_secret: String,
    /// `exp - iat` of issued tokens (whole seconds); the panel's is 15 minutes.
    pub token_lifetime: Duration,
    /// Which autologin route exists, and so which build is simulated.
    pub autologin: AutologinStyle,
    /// Whether `POST /api/plans` exists (the Go build has it).
    pub plan_create: bool,
    /// At most this many login attempts per minute (then 429); `None` = unlimited.
    pub login_burst: Option<u32>,
    /// Plans present at start.
    pub plans: Vec<SimPlan>,
    /// Whether the API is enabled (off → every `/api/*` route answers 404).
    pub api_enabled: bool,
}

impl Default for OpenAdminConfig {
    /// `admin` / `admin-secret`, 15-minute tokens, the Go build (POST autologin,
    /// plan creation), no login limit, plans `default_plan_nginx` (id 1, 10 GB,
    /// unlimited domains) and `pro_plan_apache` (id 2, 50 GB, 10 domains), API on.
    fn default() -> Self {
        Self {
            admin_username: "admin".to_owned(),
            admin_password: "admin-secret".to_owned(),
            jwt_secret: "panelgate-sim-openadmin-jwt-secret".to_owned(),
            token_lifetime: Duration::from_secs(15 * 60),
            autologin: AutologinStyle::Post,
            plan_create: true,
            login_burst: None,
            plans: vec![
                SimPlan {
                    description: "Unlimited domains and Nginx".to_owned(),
                    websites_limit: 10,
                    inodes_limit: 1_000_000,
                    bandwidth_gb: 100,
                    ..SimPlan::new(1, "default_plan_nginx", 10, 0)
                },
                SimPlan {
                    description: "Ten domains and Apache".to_owned(),
                    websites_limit: 50,
                    email_limit: 100,
                    ftp_limit: 10,
                    inodes_limit: 2_500_000,
                    db_limit: 20,
                    cpu: "2".to_owned(),
                    ram: "4g".to_owned(),
                    bandwidth_gb: 500,
                    docker_image: "openpanel/apache".to_owned(),
                    ..SimPlan::new(2, "pro_plan_apache", 50, 10)
                },
            ],
            api_enabled: true,
        }
    }
}

debug_hiding!(OpenAdminConfig {
    admin_username,
    admin_password: hidden,
    jwt_secret: hidden,
    token_lifetime,
    autologin,
    plan_create,
    login_burst,
    plans,
    api_enabled
});

/// A hosting plan as the panel holds it. Limits of 0 mean unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPlan {
    /// Plan id, as `GET /api/plans/{plan_id}` takes it.
    pub id: u64,
    /// Plan name, unique; users reference plans by name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Maximum number of domains.
    pub domains_limit: u64,
    /// Maximum number of websites.
    pub websites_limit: u64,
    /// Maximum number of email accounts.
    pub email_limit: u64,
    /// Maximum number of FTP accounts.
    pub ftp_limit: u64,
    /// Disk quota in GB.
    pub disk_limit_gb: u64,
    /// Inode quota.
    pub inodes_limit: u64,
    /// Maximum number of databases.
    pub db_limit: u64,
    /// CPU cores, as the panel stores it (e.g. `"1"`).
    pub cpu: String,
    /// Memory, as the panel stores it (e.g. `"1g"`).
    pub ram: String,
    /// Bandwidth in GB.
    pub bandwidth_gb: u64,
    /// Docker image of the user's containers (v1.7.60's plans).
    pub docker_image: String,
    /// Feature set name (the Go build's plans).
    pub feature_set: String,
}

impl SimPlan {
    /// A plan with the given disk quota (GB) and domain limit: 1 CPU, `1g` RAM,
    /// `openpanel/nginx`, feature set `default`, every other limit unlimited.
    pub fn new(id: u64, name: impl Into<String>, disk_limit_gb: u64, domains_limit: u64) -> Self {
        Self {
            id,
            name: name.into(),
            description: String::new(),
            domains_limit,
            websites_limit: 0,
            email_limit: 0,
            ftp_limit: 0,
            disk_limit_gb,
            inodes_limit: 0,
            db_limit: 0,
            cpu: "1".to_owned(),
            ram: "1g".to_owned(),
            bandwidth_gb: 0,
            docker_image: "openpanel/nginx".to_owned(),
            feature_set: "default".to_owned(),
        }
    }
}
