//! Tests of real `panelgate serve` processes: shutdown (SIGTERM, SIGKILL
//! then a retry) and replicas (two processes on one PostgreSQL database).

#![cfg(unix)]

mod gateway;
mod replicas;
mod shutdown;
mod sims;
