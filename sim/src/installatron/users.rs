//! The user routes, one function each: list, view, create-or-update, edit,
//! delete, login (readings 10 to 16).

use super::fields::{Changes, read_language, valid_id};
use super::input::{Params, flag, text, whole};
use super::reply::{Data, Failure, Field, Outcome, Reply};
use super::state::{ADMIN, Panel, UserRow, UserType};
use super::websites::test_connections;

/// `limit` when none is given.
const DEFAULT_LIMIT: u64 = 50;

/// The `dryrun` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DryRun {
    /// `none` (default): do the task.
    None,
    /// `all`: check the inputs and test the connections.
    All,
    /// `input`: check the inputs only.
    Input,
}

fn read_dryrun(params: &Params) -> Result<DryRun, Failure> {
    let field = Field::top("dryrun");
    match text(params.get("dryrun"), &field)?
        .map(|mode| mode.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "none") => Ok(DryRun::None),
        Some("all") => Ok(DryRun::All),
        Some("input") => Ok(DryRun::Input),
        Some(_) => Err(Failure::invalid(&field, "not none, all or input")),
    }
}

/// `GET /users`: a page of users in creation order, `total_count` the whole
/// list's size (reading 13).
pub(super) fn list(panel: &Panel, params: &Params) -> Outcome {
    let offset = whole(params.get("offset"), &Field::top("offset"))?.unwrap_or(0);
    let limit = whole(params.get("limit"), &Field::top("limit"))?.unwrap_or(DEFAULT_LIMIT);
    let users = panel.users();
    let page = users
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .cloned()
        .collect();
    Ok(Reply::Page {
        users: page,
        total_count: users.len(),
    })
}

/// `GET /users/{id}`.
pub(super) fn view(panel: &Panel, id: &str) -> Outcome {
    let user = panel.user(id).ok_or_else(Failure::user_not_found)?;
    Ok(Reply::Done(Data::User(Box::new(user.clone()))))
}

/// `POST /users` (create or update, the id in the body) and `POST /users/{id}`
/// (the same upsert, the path's id winning) (readings 10 and 11).
pub(super) fn save(panel: &mut Panel, path_id: Option<&str>, params: &Params) -> Outcome {
    let dryrun = read_dryrun(params)?;
    let id = match path_id {
        Some(id) => id.to_owned(),
        None => read_id(params)?,
    };
    let changes = Changes::read(params, &id)?;
    if let Some(parent) = &changes.parent {
        let owner_exists = parent == ADMIN
            || panel
                .user(parent)
                .is_some_and(|owner| owner.kind == UserType::Reseller && owner.id != id);
        if !owner_exists {
            return Err(Failure::invalid(
                &Field::top("parent"),
                "not the administrator or a reseller",
            ));
        }
    }
    let current = panel
        .user(&id)
        .cloned()
        .unwrap_or_else(|| UserRow::new(&id));
    let user = changes.apply(current);
    match dryrun {
        DryRun::Input => return Ok(Reply::DryRun),
        DryRun::All => {
            test_connections(&user)?;
            return Ok(Reply::DryRun);
        }
        DryRun::None => {}
    }
    panel.store(user.clone());
    Ok(Reply::Done(Data::User(Box::new(user))))
}

/// The `id` of `POST /users`: required (400 `empty_argument_id`), a valid
/// username (403 `invalid_argument_id`).
fn read_id(params: &Params) -> Result<String, Failure> {
    let field = Field::top("id");
    let id = text(params.get("id"), &field)?
        .map(|id| id.trim().to_owned())
        .unwrap_or_default();
    if id.is_empty() {
        return Err(Failure::empty(&field));
    }
    if !valid_id(&id) {
        return Err(Failure::invalid(&field, "not a valid username"));
    }
    Ok(id)
}

/// `DELETE /users/{id}`: forgets the user; `background` is accepted and the
/// task done at once (reading 15).
pub(super) fn delete(panel: &mut Panel, id: &str, params: &Params) -> Outcome {
    let dryrun = read_dryrun(params)?;
    flag(params.get("background"), &Field::top("background"))?;
    panel.user(id).ok_or_else(Failure::user_not_found)?;
    if dryrun != DryRun::None {
        return Ok(Reply::DryRun);
    }
    panel.remove(id);
    Ok(Reply::Done(Data::Null))
}

/// `POST /users/{id}/login`: a new GUI session on this server (reading 16).
pub(super) fn login(panel: &Panel, id: &str, params: &Params, host: &str) -> Outcome {
    read_language(params.get("language"), &Field::top("language"))?;
    panel.user(id).ok_or_else(Failure::user_not_found)?;
    let session_id = session_id();
    Ok(Reply::Session {
        url: format!("http://{host}/{session_id}"),
        session_id,
    })
}

/// 16 random bytes in unpadded base64url: 22 characters, like the doc's
/// `RMXIft8-8HExkSXbTooEvg`.
fn session_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let mut bits: u128 = u128::from_be_bytes(bytes);
    // 22 six-bit digits cover 132 bits; the top 4 are zero.
    let mut digits = [0u8; 22];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(bits & 0x3f) as usize];
        bits >>= 6;
    }
    String::from_utf8_lossy(&digits).into_owned()
}
