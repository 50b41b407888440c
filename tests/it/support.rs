use core::cell::Cell;

use futures_executor::block_on;
use keyward::domain::token::Prefix;
use keyward::domain::{RandomError, RandomSource, Timestamp};
use keyward::service::{Actor, Error, Service};
use keyward::store::memory::MemoryStore;
use serde_json::{json, Value};

/// Deterministic xorshift bytes: tests only.
pub struct TestRandom(Cell<u64>);

impl RandomSource for TestRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        for b in buf {
            let mut x = self.0.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0.set(x);
            *b = (x >> 32) as u8;
        }
        Ok(())
    }
}

pub const T0: i64 = 1_795_000_000_000;

pub struct World {
    pub svc: Service<MemoryStore, TestRandom>,
    pub now: Cell<Timestamp>,
}

pub struct Org {
    pub id: String,
    pub admin_id: String,
    pub admin_secret: String,
    pub admin_token_id: String,
}

impl World {
    pub fn new() -> Self {
        Self {
            svc: Service::new(MemoryStore::new(), TestRandom(Cell::new(0x9e37_79b9_7f4a_7c15)), Prefix::default()),
            now: Cell::new(Timestamp::from_millis(T0)),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now.get()
    }

    pub fn advance_seconds(&self, s: i64) {
        self.now.set(self.now.get().plus_seconds(s));
    }

    pub fn store(&self) -> &MemoryStore {
        self.svc.repo().store()
    }

    pub fn org(&self, name: &str, modules: &[&str]) -> Org {
        let body = json!({"name": name, "modules": modules, "admin": {"email": format!("admin@{}.io", name.to_lowercase()), "name": "Ada Admin"}});
        let created = block_on(self.svc.create_org(&body, self.now())).expect("create org");
        let v = serde_json::to_value(&created).unwrap();
        Org {
            id: v["org"]["id"].as_str().unwrap().to_owned(),
            admin_id: v["member"]["id"].as_str().unwrap().to_owned(),
            admin_secret: v["secret"].as_str().unwrap().to_owned(),
            admin_token_id: v["token"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub fn auth(&self, secret: &str) -> Result<Actor, Error> {
        block_on(self.svc.authenticate(secret, self.now()))
    }

    pub fn actor(&self, secret: &str) -> Actor {
        self.auth(secret).expect("token authenticates")
    }

    /// Add a member and give them a personal token; returns (member id, secret, token id).
    pub fn member_with_token(&self, admin: &str, email: &str, role: &str) -> (String, String, String) {
        let a = self.actor(admin);
        let m =
            block_on(self.svc.create_member(&a, &json!({"email": email, "name": "Member", "role": role}), self.now()))
                .expect("member");
        let (secret, id) =
            self.create(admin, json!({"label": "mine", "role": role, "kind": "personal", "owner_member_id": m.id}));
        (m.id, secret, id)
    }

    /// Create a token as `caller`; returns (secret, token id).
    pub fn create(&self, caller: &str, body: Value) -> (String, String) {
        let issued = self.try_create(caller, body).expect("token created");
        (issued.0, issued.1)
    }

    pub fn try_create(&self, caller: &str, body: Value) -> Result<(String, String), Error> {
        let a = self.actor(caller);
        let issued = block_on(self.svc.create_token(&a, &body, self.now()))?;
        Ok((issued.secret, issued.token.id))
    }

    pub fn verify(&self, secret: &str, scopes: &[&str]) -> String {
        let v = block_on(self.svc.verify(secret, scopes, self.now())).expect("verify");
        v.code.as_str().to_owned()
    }

    pub fn token_json(&self, caller: &str, id: &str) -> Result<Value, Error> {
        let a = self.actor(caller);
        block_on(self.svc.get_token(&a, id, self.now())).map(|v| serde_json::to_value(v).unwrap())
    }
}
