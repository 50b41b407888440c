//! The pure core: token format, hashing, masking, validation, policy and the verify verdict.
//!
//! Plain Rust with no I/O: no clock (callers pass [`Timestamp`]s), no RNG of its own (callers
//! pass a [`RandomSource`]), and no worker, wasm-bindgen, js-sys or web-sys import, so it is
//! unit-tested natively and shared verbatim by the Worker and the browser module.

pub mod access;
pub mod audit;
pub mod cidr;
pub mod email;
pub mod ip;
pub mod json;
pub mod leak;
pub mod legacy;
pub mod lifecycle;
pub mod meter;
pub mod model;
pub mod notice;
pub mod policy;
pub mod projection;
pub mod random;
pub mod reminder;
pub mod sending;
pub mod sink;
pub mod text;
pub mod time;
pub mod token;
pub mod validate;
pub mod verify;
pub mod webhook;

#[cfg(test)]
mod validate_tests;

pub use model::{
    derive_status, effective_role, ActedBy, Action, AuditEvent, Kind, Member, MemberStatus, Notification, OnLeak, Org,
    Policy, Role, SetBy, State, Status, TargetType, Token, VerifyEntry,
};
pub use random::{RandomError, RandomSource};
pub use time::Timestamp;
pub use verify::{verdict, Code};
