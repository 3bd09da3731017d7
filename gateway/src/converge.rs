//! Create-like calls whose retries converge on one effect. After an earlier
//! attempt with the same `request_id` ended without a known outcome (a
//! timeout, a dropped connection, a crash), the retry first asks the panel
//! what it already holds and answers with that, instead of creating a second
//! copy or answering ALREADY_EXISTS about its own earlier attempt.

use std::future::Future;

use panelgate_adapters::{AdapterError, Earlier, Entity};

/// One create-like call: the panel's create, the panel's answer to "did an
/// earlier attempt make it?", and what the thing is.
pub struct Create<E, C> {
    /// What is created, as the panel's ALREADY_EXISTS names it.
    pub entity: Entity,
    /// Asks the panel what an earlier attempt left (called at most twice).
    pub earlier: E,
    /// Makes it.
    pub create: C,
}

impl<T, E, EF, C, CF> Create<E, C>
where
    E: Fn() -> EF,
    EF: Future<Output = Result<Earlier<T>, AdapterError>>,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<T, AdapterError>>,
{
    /// Runs the create. When `uncertain`, what the panel already holds is
    /// the answer; and when the create then says the very thing exists
    /// although the panel could not say before whether it did, the earlier
    /// attempt made it: `assumed` is the reply (None keeps the error).
    pub async fn run(
        self,
        uncertain: bool,
        assumed: impl FnOnce() -> Option<T>,
    ) -> Result<T, AdapterError> {
        if !uncertain {
            return (self.create)().await;
        }
        let known = match (self.earlier)().await? {
            Earlier::Made(made) => return Ok(made),
            Earlier::Absent => true,
            Earlier::Unknown => false,
        };
        match (self.create)().await {
            Err(exists @ AdapterError::AlreadyExists { .. }) if is_of(&exists, self.entity) => {
                match (self.earlier)().await? {
                    Earlier::Made(made) => Ok(made),
                    _ if !known => assumed().ok_or(exists),
                    _ => Err(exists),
                }
            }
            other => other,
        }
    }
}

/// Whether `error` is an ALREADY_EXISTS of `entity`.
fn is_of(error: &AdapterError, entity: Entity) -> bool {
    matches!(error, AdapterError::AlreadyExists { entity: of, .. } if *of == entity)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    fn already() -> AdapterError {
        AdapterError::AlreadyExists {
            entity: Entity::Domain,
            key: "d".into(),
            upstream: None,
        }
    }

    async fn run(
        uncertain: bool,
        earlier: Vec<Earlier<u32>>,
        created: Result<u32, AdapterError>,
    ) -> (Result<u32, AdapterError>, u32) {
        let creates = Arc::new(AtomicU32::new(0));
        let answers = std::sync::Mutex::new(earlier.into_iter());
        let counted = creates.clone();
        let outcome = Create {
            entity: Entity::Domain,
            earlier: || {
                let next = answers.lock().unwrap().next().unwrap_or(Earlier::Absent);
                async move { Ok(next) }
            },
            create: || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                created
            },
        }
        .run(uncertain, || Some(99))
        .await;
        (outcome, creates.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_certain_call_just_creates() {
        let (outcome, creates) = run(false, vec![Earlier::Made(1)], Ok(2)).await;
        assert_eq!((outcome.unwrap(), creates), (2, 1));
        let (outcome, _) = run(false, vec![Earlier::Made(1)], Err(already())).await;
        assert!(matches!(outcome, Err(AdapterError::AlreadyExists { .. })));
    }

    #[tokio::test]
    async fn an_uncertain_retry_answers_with_what_the_panel_holds() {
        let (outcome, creates) = run(true, vec![Earlier::Made(1)], Ok(2)).await;
        assert_eq!((outcome.unwrap(), creates), (1, 0));
        let (outcome, creates) = run(true, vec![Earlier::Absent], Ok(2)).await;
        assert_eq!((outcome.unwrap(), creates), (2, 1));
        // Made between the look and the create: the second look finds it.
        let (outcome, _) = run(
            true,
            vec![Earlier::Absent, Earlier::Made(1)],
            Err(already()),
        )
        .await;
        assert_eq!(outcome.unwrap(), 1);
    }

    #[tokio::test]
    async fn already_exists_is_the_earlier_attempts_only_when_nothing_says_otherwise() {
        let (outcome, _) = run(true, vec![Earlier::Absent, Earlier::Absent], Err(already())).await;
        assert!(matches!(outcome, Err(AdapterError::AlreadyExists { .. })));
        let (outcome, _) = run(
            true,
            vec![Earlier::Unknown, Earlier::Unknown],
            Err(already()),
        )
        .await;
        assert_eq!(outcome.unwrap(), 99);
    }
}
