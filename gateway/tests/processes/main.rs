//! Tests of real `panelgate serve` processes: shutdown (SIGTERM, SIGKILL
//! then a retry), replicas (two processes on one PostgreSQL database), and
//! a batch finished by another process after its gateway was killed.

#![cfg(unix)]

mod batches;
mod gateway;
mod replicas;
mod shutdown;
mod sims;
