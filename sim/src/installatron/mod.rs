//! Simulator of the Installatron Server API (v2, REST paths).
//!
//! Written from the document of `POST /users` (create or update a user with
//! its websites, `X-API-KEY` authentication, the JSON envelope); where it is
//! silent it follows the vendor's other API pages (the other user endpoints,
//! the envelope, the errcodes). It holds users with their websites and
//! databases in memory, as records: like the real server it creates no hosting
//! account, file or database. It answers `/users`, `/users/{id}` and
//! `/users/{id}/login` the way the panel does.
//!
//! # Layout
//!
//! - `handle`: the public handle [`InstallatronSim`] and the received requests;
//! - `config`: its settings (the API keys);
//! - `routes`: the HTTP surface (key check, paths and methods, method override);
//! - `input`: the parameters (query, JSON or form body) as one tree, typed readers;
//! - `fields`: the user fields, their checks, applying them to a user;
//! - `websites`: the website fields (paths, vhosts, databases), the dry run's connection tests;
//! - `users`: the routes, one function each;
//! - `reply`: the envelope, the errcodes, the failures;
//! - `state`: the users behind a mutex, serialized as the API shows them.
//!
//! # Readings
//!
//! Where the doc and the reference leave a choice, this is what the simulator does.
//!
//! 1. **Key.** Every request, on every path, first needs the header `X-API-KEY`
//!    (any case of the name) equal to the `key=` value ([`InstallatronConfig::api_key`])
//!    or the `key2=` value ([`InstallatronConfig::api_key2`]), surrounding
//!    spaces ignored. Missing, empty or wrong: 403 `invalid_api_key`, errfield
//!    null. The key is never recorded.
//! 2. **Envelope.** Every answer, errors included, is `application/json`
//!    `{"result", "status", "errcode", "errfield", "message", "data"}` in that
//!    order (valid JSON: the doc's example lacks a comma after `message`), with
//!    the HTTP status equal to `status`. Success: `result` true, status 200,
//!    errcode and errfield null, message `"The task is complete.\n"`. Errors:
//!    `result` false, `data` null, a message ending in `"\n"` like the success
//!    one (messages are informational only, the doc says). `total_count`
//!    (lists, reading 13) and `session_id` (login, reading 16) are extra
//!    top-level keys after `data`.
//! 3. **Commands and order of checks.** The API is at the server's root
//!    ([`InstallatronSim::base_url`]). Order: key (reading 1), path, method,
//!    the id in the path (reading 4), the body (reading 5), then the command's
//!    own checks in the doc's field order, the first problem found being the
//!    answer (one errcode, one errfield), and only then the change. A path
//!    other than `/users`, `/users/{id}`, `/users/{id}/login` is 404
//!    `command_not_found`; a method a path lacks is 405 `invalid_method` (both
//!    errcodes invented: the docs show none). Methods: `GET`/`POST` on
//!    `/users`; `GET`/`POST`/`DELETE` on `/users/{id}`; `POST` on
//!    `/users/{id}/login`; `DELETE /users` names no user: 400
//!    `empty_argument_user`. A POST with `X-HTTP-Method-Override: GET|DELETE|...`
//!    is handled as that method (the vendor's API documents this tunnel). The
//!    v1 API (`cmd=`), the CLI, `api_version` and the old name `guixfer` are
//!    not simulated. `Accept` is not checked (it is recorded:
//!    [`InstallatronRequest::accept`]).
//! 4. **Ids in paths** are percent-decoded segments; one trailing `/` is
//!    ignored (`/users/` is `/users`). An empty id (`/users//login`) is 400
//!    `empty_argument_user` (errfield `user`); an id that is no valid username
//!    (reading 7; `%20`, `%2F`, or more segments such as `/users/a/b`) is 403
//!    `invalid_argument_id` (errfield `id`), as the doc lists it.
//! 5. **Parameters** are the query string's (read as PHP's `$_GET`, brackets
//!    included), then the body's over them, a body field replacing a query
//!    field of the same name (PHP's `$_REQUEST` order): so `dryrun`, `offset`,
//!    `limit`, `background`, `language` may come either way. The body is read
//!    as JSON when `Content-Type` is `application/json` (or `+json`), as a form
//!    with PHP's bracket notation (`websites[0][vhosts][http://a.com]=public_html`,
//!    the shared `crate::form` decoder) when it is
//!    `application/x-www-form-urlencoded`, and not at all otherwise (no
//!    `Content-Type`, multipart...). A non-empty JSON body that is not a JSON
//!    object is 400 `invalid_json` (errcode invented). JSON `null` is absent.
//!    Readers accept both encodings' spellings: strings or numbers for string
//!    fields; `true`/`false`, `1`/`0`, `"true"`/`"false"`/`"1"`/`"0"`/`""` for
//!    booleans; integers or digit strings for numbers; JSON arrays or keyed
//!    arrays (`websites[0]...`, in the order given) for lists; an empty string
//!    or `[]` for an empty list or object. Unknown fields are ignored (top-level
//!    `locale` and website `parent` included: the inputs are `language` and
//!    `reseller`).
//! 6. **Users only.** The applications browser, installs, backups and tasks
//!    are not simulated: their paths are 404 `command_not_found` (reading 3).
//! 7. **Usernames** (`id`) are 1 to 64 ASCII letters, digits or `. _ - @ +`,
//!    stored and matched exactly (case-sensitive, like the hosting accounts
//!    they mirror). The main administrator `root` (settings.ini `admin=`) is
//!    no user record: it is only the default `parent`.
//! 8. **Errcodes.** The doc's naming: `empty_argument_<field>` (400) for a
//!    missing required value, `invalid_argument_<field>` (400; 403 for `id`,
//!    as the doc lists it) for a refused one, `<field>` being the last named
//!    part and errfield the whole name in bracket notation, lists indexed by
//!    position from 0 (`websites[1][databases][0][host]`). In full:
//!    `invalid_api_key` 403; `command_not_found` 404; `invalid_method` 405;
//!    `invalid_json` 400; `empty_argument_user` 400; `user_not_found` 404;
//!    `empty_argument_id` 400 (`POST /users` without `id`); `invalid_argument_id`
//!    403; `invalid_argument_email` (top level or website: not an address; empty
//!    clears the top-level one); `invalid_argument_language` (not a code like
//!    `en`, `nl`, `zh_tw`; also login's `language`); `invalid_argument_parent`
//!    (neither `root` nor an existing reseller other than the user);
//!    `invalid_argument_package` (not a string); `invalid_argument_suspended`;
//!    `invalid_argument_type` (`type` not
//!    `user`/`reseller`, or a database `type` not `mysql`);
//!    `invalid_argument_websites` (not a list, or an item not an object);
//!    `invalid_argument_path`; `invalid_argument_vhosts` (not an object, a key
//!    not an `http(s)://` URL with a host, a docroot absolute or with `..`);
//!    `invalid_argument_databases` (not a list, or an item not an object);
//!    `empty_argument_host`, `empty_argument_name`, `empty_argument_user`,
//!    `empty_argument_pass` (a database field missing; `type` defaults to
//!    `mysql`); `empty_argument_uid`, `empty_argument_gid` (local path without
//!    them), `invalid_argument_uid`, `invalid_argument_gid` (not a whole number
//!    below 2³²); `invalid_argument_label` (a label used by an earlier website
//!    of the same request); `invalid_argument_server`, `invalid_argument_reseller`
//!    (not strings); `invalid_argument_vhost_ip` (not an IPv4/IPv6 literal);
//!    `invalid_argument_dryrun` (not `none`/`all`/`input`);
//!    `invalid_argument_background`; `invalid_argument_offset`,
//!    `invalid_argument_limit` (not whole numbers); `complete_dryrun` 200;
//!    `failed_filesystem_host` 500; `failed_database_host` 500 (invented, in the
//!    style of the `failed_filesystem_*` family). Within a website the checks
//!    go path, vhosts, databases, uid, gid (the doc lists gid first, and
//!    swaps their descriptions), label, language, server, suspended, vhost_ip,
//!    email, reseller. The database `empty_argument_user` shares its name with
//!    the route's; errfield tells them apart.
//! 9. **The stored user**, as `GET /users/{id}` shows it and
//!    [`InstallatronSim::user`] returns it: `id`, `parent`, `type`, `suspended`,
//!    `locale` (the `language` input), `email` (always present, `""` when
//!    unset), `package` (only when not empty: the doc's examples show none),
//!    `websites`. A website shows `path` and `label` when given, `server` and
//!    `parent` always, `email`, `language`, `uid`, `gid`, `suspended`,
//!    `vhost_ip` only when given, then `databases` (each `type`, `host`,
//!    `user`, `name`, `pass`, in clear: the doc's example shows the password)
//!    and `vhosts` (an object, `{}` when none, URLs in the order given), always.
//!    So the doc's RESPONSE example round-trips exactly. (The doc's REQUEST
//!    example is not what produced its response: vhosts and databases differ.)
//! 10. **`POST /users` is an upsert** keyed by `id` (required). New user
//!     defaults: `parent` `root`, `type` `user`, `suspended` false, `locale`
//!     `en`, `email` and `package` empty, no websites. On an existing user only
//!     the fields sent change (`package` `""` clears it; an empty `language` or
//!     `parent` is absent); `websites` sent replaces the whole list, absent
//!     keeps it. `type` is applied as sent (the doc's "Set a package" example
//!     sends `reseller` and shows `user`: a doc slip). A website's `parent` is
//!     its `reseller` when given, else the user's parent (followed when that
//!     changes). `path` is optional (Path On Demand); when given it is a local
//!     path (`/...` or `c:\...`, then `uid` and `gid` are required) or an
//!     `ssh://`, `sftp://`, `ftp://`, `ftps://` URI with a host, without a
//!     trailing separator (the doc says "without"; sent with one: refused).
//!     `server` defaults to the URI's host (no credentials, no port),
//!     `localhost` for a local path (it has no host), the username without a
//!     path. `uid`/`gid` sent with a URI are kept. A website without `label`
//!     has none (no label is generated). **`POST /users/{id}`** is the edit
//!     endpoint: same fields, the path's id wins over a body `id`, and, as the
//!     docs call it the same call as create, it is the same upsert: an unknown
//!     user is **created** (with the defaults above), not refused. A client
//!     that means to edit must look the user up first. Both answer the user
//!     as stored.
//! 11. **Dry runs** (`dryrun`, query or body, on both POSTs and DELETE): `none`
//!     (default) does the task; `input` checks the inputs exactly as a real
//!     call (the user's existence included where the route needs it); `all`
//!     also tests the connections (reading 12). A dry run that finds nothing
//!     answers status 200, errcode `complete_dryrun`, errfield null, message
//!     `"dryrun was enabled and finished without error.\n"`, `data` null,
//!     **`result` false**, and changes nothing. Why false: `complete_dryrun`
//!     is listed among the errcodes, i.e. the server ends the call through its
//!     error path; a client that decides success by `status` 200 with errcode
//!     null or `complete_dryrun` works whichever `result` the real server
//!     sends, while a client reading only `result` would fail here (what the
//!     simulator is for). A real (`none`) call tests no
//!     connection: users are records, connections are used by later tasks.
//! 12. **Connection tests** (`dryrun=all`, on the user as it would be stored,
//!     kept websites included): a remote path whose host is under the reserved
//!     `.invalid` top-level domain (RFC 6761, e.g. `unreachable.invalid`) is
//!     500 `failed_filesystem_host` (errfield `websites[i][path]`); a database
//!     host (port ignored) under `.invalid` is 500 `failed_database_host`
//!     (errfield `websites[i][databases][j][host]`). Everything else connects.
//! 13. **`GET /users`**: `data` is a list of users as in reading 9, in
//!     creation order (an update keeps the place); `offset` (default 0) and
//!     `limit` (default 50; 0 gives an empty page) page it; `total_count`, the
//!     number of all users, is a top-level key of the envelope beside `data`
//!     (the docs say "see total_count in the response" without placing it;
//!     `data` is the list itself). The `user` scope parameter is ignored.
//! 14. **`GET /users/{id}`**: `data` is the user; unknown: 404 `user_not_found`.
//! 15. **`DELETE /users/{id}`** forgets the user and its websites (no files are
//!     touched, as the doc says); `data` null. Unknown: 404 `user_not_found`.
//!     `background` must be a boolean and the task is done before answering
//!     either way (no `GET /tasks`). Users whose parent it was keep the name.
//! 16. **`POST /users/{id}/login`**: `data` is the GUI URL
//!     `http://<Host header>/<session>` (plain HTTP, as the simulator is
//!     served; the real one is `https://…is.direct/<session>`) and the session
//!     id also sits in a top-level `session_id` key (the doc lists `session_id`
//!     among the response fields beside `status` and `result`, not under the
//!     string `data`). Sessions are 22 random base64url characters (like
//!     `RMXIft8-8HExkSXbTooEvg`), new on every call and not remembered.
//!     Optional `language` is checked (reading 8) and not kept. Suspended users
//!     get a session too (the doc lists no errcode for them). Unknown: 404.
//! 17. **Faults** go through the crate's front door: an injected fault answers
//!     before the API runs, so such a request is counted
//!     ([`InstallatronSim::request_count`]) but not in
//!     [`InstallatronSim::received`], which holds every request that reached
//!     the API, refused ones included.

mod config;
mod fields;
mod handle;
mod input;
mod reply;
mod routes;
mod state;
mod users;
mod websites;

#[cfg(test)]
mod tests;

pub use config::InstallatronConfig;
pub use handle::{InstallatronRequest, InstallatronSim};
