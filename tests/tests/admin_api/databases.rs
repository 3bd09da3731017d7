//! Databases: database_add (CreateDatabase), and the MySQL errors the panel
//! passes through.

use tonic::Code;

use crate::Ols;

panelgate_tests::panel_tests!(Ols:
    create_database_prefixes_names_with_the_account,
    database_creation_failure_is_upstream_operation_failed,
    duplicate_database_is_refused_and_nothing_half_made);

/// CreateDatabase makes a database and its user, which the panel prefixes
/// with the account name; the reply gives the names as requested.
async fn create_database_prefixes_names_with_the_account(ols: Ols) {
    ols.create("ned", "Basic").await;
    let database = ols.create_database("ned", "shop", "shopuser").await;
    let database = database.expect("create database");
    let names = (database.name.as_str(), database.user.as_str());
    assert_eq!(names, ("shop", "shopuser"));
    assert_eq!(database.username, "ned");
    let user = ols.sim.user("ned").expect("ned");
    assert_eq!(user.databases, ["ned_shop"]);
    assert_eq!(user.db_users, ["ned_shopuser"]);
}

/// database_add passing a failure of its database layer through → INTERNAL
/// UPSTREAM_OPERATION_FAILED with the panel's words; nothing is created.
async fn database_creation_failure_is_upstream_operation_failed(ols: Ols) {
    ols.create("wes", "Basic").await;
    let message = "Some error message from database creation function";
    ols.sim.fail_next("database_add", message);
    let failed = ols.create_database("wes", "shop", "shopuser").await;
    ols.assert_said(failed, Code::Internal, "UPSTREAM_OPERATION_FAILED", message);
    let user = ols.sim.user("wes").expect("wes");
    let nothing = user.databases.is_empty() && user.db_users.is_empty();
    assert!(nothing, "{user:?}");
}

/// A database or database user the account has already: the panel passes
/// MySQL's error through, the caller gets it as an error, and nothing is
/// half-made (no second database, no stray user).
async fn duplicate_database_is_refused_and_nothing_half_made(ols: Ols) {
    ols.create("xia", "Basic").await;
    let first = ols.create_database("xia", "shop", "shopuser").await;
    first.expect("first database");
    let cases = [
        (
            ("shop", "otheruser"),
            "DATABASE_ALREADY_EXISTS",
            "(1007, \"Can't create database 'xia_shop'; database exists\")",
        ),
        (
            ("blog", "shopuser"),
            "DATABASE_USER_ALREADY_EXISTS",
            "(1396, \"Operation CREATE USER failed for 'xia_shopuser'@'localhost'\")",
        ),
    ];
    for ((name, user), reason, mysql_error) in cases {
        let again = ols.create_database("xia", name, user).await;
        // MySQL's error passed through by the panel, read for what it means.
        ols.assert_said(again, Code::AlreadyExists, reason, mysql_error);
        let user = ols.sim.user("xia").expect("xia");
        assert_eq!(user.databases, ["xia_shop"]);
        assert_eq!(user.db_users, ["xia_shopuser"]);
    }
}
