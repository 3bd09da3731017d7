//! The `websites[]` definition: paths, vhosts, databases, uid and gid, and the
//! other website fields (readings 8 and 10); and the dry run's connection
//! tests (reading 12).

use std::net::IpAddr;

use super::fields::{read_email, read_language};
use super::input::{Input, flag, required_text, text, whole};
use super::reply::{Failure, Field};
use super::state::{DatabaseRow, UserRow, WebsiteRow};

/// The protocols a website path may use besides the local filesystem.
const REMOTE_SCHEMES: [&str; 4] = ["ssh", "sftp", "ftp", "ftps"];

/// `websites[]`: every website, then the labels' uniqueness.
pub(super) fn read_websites(value: &Input, id: &str) -> Result<Vec<WebsiteRow>, Failure> {
    let field = Field::top("websites");
    let items = value
        .items()
        .ok_or_else(|| Failure::invalid(&field, "not a list of websites"))?;
    let mut websites: Vec<WebsiteRow> = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let website = read_website(item, &field.at(index), id)?;
        if let Some(label) = &website.label
            && websites
                .iter()
                .any(|earlier| earlier.label.as_ref() == Some(label))
        {
            return Err(Failure::invalid(
                &field.at(index).key("label"),
                "used by another website of this user",
            ));
        }
        websites.push(website);
    }
    Ok(websites)
}

/// Where a website's files are.
enum Location {
    /// A local or NFS path (`/home/u`, `c:\inetpub\vhosts\d`): uid and gid required.
    Local,
    /// A URI; the host is the path's host (without port or credentials).
    Remote { host: String },
}

/// One website, its fields checked in the doc's order (uid before gid, reading 8).
fn read_website(value: &Input, field: &Field, id: &str) -> Result<WebsiteRow, Failure> {
    if value.entries().is_none() {
        return Err(Failure::invalid(field, "not an object"));
    }
    let path_field = field.key("path");
    let path = text(value.get("path"), &path_field)?
        .map(|path| path.trim().to_owned())
        .filter(|path| !path.is_empty());
    let location = match &path {
        Some(path) => Some(locate(path).map_err(|why| Failure::invalid(&path_field, why))?),
        None => None,
    };
    let vhosts = read_vhosts(value.get("vhosts"), &field.key("vhosts"))?;
    let databases = read_databases(value.get("databases"), &field.key("databases"))?;
    let local = matches!(location, Some(Location::Local));
    let uid = read_id_number(value.get("uid"), &field.key("uid"), local)?;
    let gid = read_id_number(value.get("gid"), &field.key("gid"), local)?;
    let label = text(value.get("label"), &field.key("label"))?.filter(|label| !label.is_empty());
    let language = read_language(value.get("language"), &field.key("language"))?;
    let server = text(value.get("server"), &field.key("server"))?
        .map(|server| server.trim().to_owned())
        .filter(|server| !server.is_empty());
    let suspended = flag(value.get("suspended"), &field.key("suspended"))?;
    let vhost_ip = read_ip(value.get("vhost_ip"), &field.key("vhost_ip"))?;
    let email =
        read_email(value.get("email"), &field.key("email"))?.filter(|email| !email.is_empty());
    let reseller = text(value.get("reseller"), &field.key("reseller"))?
        .map(|reseller| reseller.trim().to_owned())
        .filter(|reseller| !reseller.is_empty());
    // Default server: the path's host; `localhost` for a local path; the
    // username without a path (reading 10).
    let server = server.unwrap_or_else(|| match location {
        Some(Location::Remote { host }) => host,
        Some(Location::Local) => "localhost".to_owned(),
        None => id.to_owned(),
    });
    Ok(WebsiteRow {
        path,
        label,
        server,
        parent: String::new(),
        reseller,
        email,
        language,
        uid,
        gid,
        suspended,
        vhost_ip,
        databases,
        vhosts,
    })
}

/// Classifies a website path; the reason when it is refused (reading 10).
fn locate(path: &str) -> Result<Location, &'static str> {
    if path.len() > 1 && (path.ends_with('/') || path.ends_with('\\')) {
        return Err("ends with a directory separator");
    }
    let bytes = path.as_bytes();
    let windows = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes[2] == b'\\' || bytes[2] == b'/');
    if path.starts_with('/') || windows {
        return Ok(Location::Local);
    }
    let Some((scheme, rest)) = path.split_once("://") else {
        return Err("neither an absolute path nor a URI");
    };
    if !REMOTE_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err("unsupported protocol (ssh, sftp, ftp or ftps)");
    }
    match uri_host(rest) {
        Some(host) => Ok(Location::Remote { host }),
        None => Err("the URI has no host"),
    }
}

/// The host of what follows `scheme://`: credentials, port and path dropped,
/// IPv6 brackets removed, lowercased.
fn uri_host(rest: &str) -> Option<String> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map(|(host, _)| host)?,
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `vhosts`: site URL (`http://` or `https://` with a host) → docroot relative
/// to the path (no leading separator, no `..`).
fn read_vhosts(value: Option<&Input>, field: &Field) -> Result<Vec<(String, String)>, Failure> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let entries = value
        .entries()
        .ok_or_else(|| Failure::invalid(field, "not an object of site URL to docroot"))?;
    let mut vhosts = Vec::with_capacity(entries.len());
    for (url, docroot) in entries {
        let site_url = url.trim();
        let host = ["http://", "https://"]
            .iter()
            .find_map(|scheme| {
                site_url
                    .get(..scheme.len())
                    .filter(|head| head.eq_ignore_ascii_case(scheme))
                    .map(|_| &site_url[scheme.len()..])
            })
            .and_then(uri_host);
        if host.is_none() {
            return Err(Failure::invalid(field, "a site URL is not an http(s) URL"));
        }
        let Some(docroot) = text(Some(docroot), field)? else {
            return Err(Failure::invalid(field, "a docroot is missing"));
        };
        let docroot = docroot.trim().to_owned();
        if docroot.starts_with('/')
            || docroot.starts_with('\\')
            || docroot.split(['/', '\\']).any(|part| part == "..")
        {
            return Err(Failure::invalid(
                field,
                "a docroot is not relative to the path",
            ));
        }
        // A URL sent twice (a form repeating a key): the later docroot wins.
        match vhosts.iter().position(|(known, _)| known == site_url) {
            Some(at) => vhosts[at] = (site_url.to_owned(), docroot),
            None => vhosts.push((site_url.to_owned(), docroot)),
        }
    }
    Ok(vhosts)
}

/// `databases[]`: type `mysql` (the default), host, name, user and pass required.
fn read_databases(value: Option<&Input>, field: &Field) -> Result<Vec<DatabaseRow>, Failure> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value
        .items()
        .ok_or_else(|| Failure::invalid(field, "not a list of databases"))?;
    let mut databases = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let field = field.at(index);
        if item.entries().is_none() {
            return Err(Failure::invalid(&field, "not an object"));
        }
        let type_field = field.key("type");
        let kind = text(item.get("type"), &type_field)?
            .map(|kind| kind.trim().to_ascii_lowercase())
            .filter(|kind| !kind.is_empty())
            .unwrap_or_else(|| "mysql".to_owned());
        if kind != "mysql" {
            return Err(Failure::invalid(&type_field, "must be mysql"));
        }
        let host = required_text(item.get("host"), &field.key("host"))?;
        let name = required_text(item.get("name"), &field.key("name"))?;
        let user = required_text(item.get("user"), &field.key("user"))?;
        let pass_field = field.key("pass");
        let pass = text(item.get("pass"), &pass_field)?
            .filter(|pass| !pass.is_empty())
            .ok_or_else(|| Failure::empty(&pass_field))?;
        databases.push(DatabaseRow {
            kind,
            host,
            user,
            name,
            pass,
        });
    }
    Ok(databases)
}

/// `uid` or `gid`: a POSIX id, required for a local path.
fn read_id_number(
    value: Option<&Input>,
    field: &Field,
    required: bool,
) -> Result<Option<u32>, Failure> {
    let number = match value {
        Some(Input::Text(text)) if text.trim().is_empty() => None,
        _ => whole(value, field)?,
    };
    match number {
        None if required => Err(Failure::empty(field)),
        None => Ok(None),
        Some(number) => u32::try_from(number)
            .map(Some)
            .map_err(|_| Failure::invalid(field, "out of range")),
    }
}

/// `vhost_ip`: an IPv4 or IPv6 address; empty is absent.
fn read_ip(value: Option<&Input>, field: &Field) -> Result<Option<String>, Failure> {
    let Some(ip) = text(value, field)? else {
        return Ok(None);
    };
    let ip = ip.trim();
    if ip.is_empty() {
        return Ok(None);
    }
    ip.parse::<IpAddr>()
        .map(|ip| Some(ip.to_string()))
        .map_err(|_| Failure::invalid(field, "not an IP address"))
}

// === dry run ===

/// `dryrun=all`'s connection tests (reading 12): a website or database host
/// under the reserved `.invalid` top-level domain is unreachable.
pub(super) fn test_connections(user: &UserRow) -> Result<(), Failure> {
    let field = Field::top("websites");
    for (index, website) in user.websites.iter().enumerate() {
        let website_field = field.at(index);
        if let Some(Ok(Location::Remote { host })) = website.path.as_deref().map(locate)
            && unreachable(&host)
        {
            return Err(Failure::filesystem_host(&website_field.key("path"), &host));
        }
        for (at, database) in website.databases.iter().enumerate() {
            let host = uri_host(&database.host).unwrap_or_default();
            if unreachable(&host) {
                let database_field = website_field.key("databases").at(at).key("host");
                return Err(Failure::database_host(&database_field, &database.host));
            }
        }
    }
    Ok(())
}

/// Whether a host never resolves (RFC 6761 `.invalid`).
fn unreachable(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}
