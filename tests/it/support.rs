use core::cell::Cell;

use futures_executor::block_on;
use keyward::domain::token::Prefix;
use keyward::domain::{RandomError, RandomSource, Timestamp};
use keyward::service::{Actor, Error, Service};
use keyward::store::memory::{MemoryKv, MemoryStore};
use serde_json::{json, Value};

/// The input of an endpoint that takes no body.
pub fn no_body() -> keyward::domain::validate::EmptyInput {
    keyward::domain::validate::EmptyInput::default()
}

/// The typed input of a JSON body, read as the server reads it.
pub fn form<T: keyward::domain::validate::FromObject>(body: Value) -> T {
    keyward::domain::validate::read(body).expect("a JSON object")
}

/// Deterministic xorshift bytes: tests only.
pub struct TestRandom(pub Cell<u64>);

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
    pub svc: Service<MemoryStore, MemoryKv, TestRandom>,
    pub now: Cell<Timestamp>,
    /// The address calls come from (network allowlists); `None`: unknown.
    pub client: Cell<Option<std::net::IpAddr>>,
    /// Randomness for the ids the Worker (not the service) makes.
    ids: TestRandom,
    /// The deployment's legacy key formats (`LEGACY_KEY_FORMATS`); none unless a test sets them.
    pub legacy: std::cell::RefCell<keyward::domain::legacy::LegacyFormats>,
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
            svc: Service::new(
                MemoryStore::new(),
                MemoryKv::new(),
                TestRandom(Cell::new(0x9e37_79b9_7f4a_7c15)),
                Prefix::default(),
            ),
            now: Cell::new(Timestamp::from_millis(T0)),
            client: Cell::new(None),
            ids: TestRandom(Cell::new(0x2545_f491_4f6c_dd1d)),
            legacy: std::cell::RefCell::default(),
        }
    }

    /// A fresh org id, as the Worker picks one (it names the org's authority).
    pub fn new_org_id(&self) -> String {
        keyward::domain::model::new_id("org_", &self.ids).expect("random")
    }

    pub fn now(&self) -> Timestamp {
        self.now.get()
    }

    pub fn advance_seconds(&self, s: i64) {
        self.now.set(self.now.get().plus_seconds(s));
    }

    /// The authority's records.
    pub fn store(&self) -> &MemoryStore {
        self.svc.repo().store()
    }

    /// KV: the verify projection and last uses.
    pub fn kv(&self) -> &MemoryKv {
        self.svc.edge().kv()
    }

    pub fn org(&self, name: &str, modules: &[&str]) -> Org {
        let body = json!({"name": name, "modules": modules, "admin": {"email": format!("admin@{}.io", name.to_lowercase()), "name": "Ada Admin"}});
        let org_id = self.new_org_id();
        let op = keyward::service::Operator::authenticate(Some("op-secret"), Some("op-secret")).expect("operator");
        let created = block_on(self.svc.create_org(&op, &org_id, &form(body.clone()), self.now())).expect("create org");
        let v = serde_json::to_value(&created).unwrap();
        Org {
            id: v["org"]["id"].as_str().unwrap().to_owned(),
            admin_id: v["member"]["id"].as_str().unwrap().to_owned(),
            admin_secret: v["secret"].as_str().unwrap().to_owned(),
            admin_token_id: v["token"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Authenticate as the Worker does: find the secret at the edge, then check it strictly
    /// against the records.
    pub fn auth(&self, secret: &str) -> Result<Actor, Error> {
        block_on(async {
            let at = self
                .svc
                .locate(secret, &keyward::domain::legacy::LegacyFormats::none())
                .await?
                .ok_or(Error::Unauthenticated)?;
            let actor = self.svc.authenticate(secret, &at, self.client.get(), self.now()).await?;
            // As the org authority does: an admin call is a use of its token.
            self.svc.note_use(&actor, self.now()).await?;
            Ok(actor)
        })
    }

    pub fn actor(&self, secret: &str) -> Actor {
        self.auth(secret).expect("token authenticates")
    }

    /// Add a member and give them a personal token; returns (member id, secret, token id).
    pub fn member_with_token(&self, admin: &str, email: &str, role: &str) -> (String, String, String) {
        let a = self.actor(admin);
        let m = block_on(self.svc.create_member(
            &a,
            &form(json!({"email": email, "name": "Member", "role": role})),
            self.now(),
        ))
        .expect("member");
        let (secret, id) =
            self.create(admin, json!({"label": "mine", "role": role, "kind": "personal", "owner_member_id": m.id, "scopes": ["keyward:manage"]}));
        (m.id, secret, id)
    }

    /// Create a token as `caller`; returns (secret, token id).
    pub fn create(&self, caller: &str, body: Value) -> (String, String) {
        let issued = self.try_create(caller, body).expect("token created");
        (issued.0, issued.1)
    }

    pub fn try_create(&self, caller: &str, body: Value) -> Result<(String, String), Error> {
        let a = self.actor(caller);
        let issued = block_on(self.svc.create_token(&a, form(body.clone()), self.now()))?;
        Ok((issued.secret, issued.token.id))
    }

    /// The edge verdict (KV), checked against the strict one (records) whenever KV has
    /// nothing left owed: the two must agree.
    pub fn verify(&self, secret: &str, scopes: &[&str]) -> String {
        let edge = block_on(self.svc.verify(secret, &self.legacy.borrow(), scopes, self.client.get(), self.now()))
            .expect("verify");
        if !block_on(self.svc.projection_pending()).unwrap() {
            assert_eq!(self.verify_strict(secret, scopes), edge.code.as_str(), "edge and strict disagree");
        }
        edge.code.as_str().to_owned()
    }

    /// The edge's answer alone (KV, with the world's legacy formats), not checked against the
    /// records: for tests of a moment when the two may differ.
    pub fn edge_answer(&self, secret: &str) -> Result<keyward::service::Verification, Error> {
        block_on(self.svc.verify(secret, &self.legacy.borrow(), &[] as &[&str], self.client.get(), self.now()))
    }

    /// The code of [`World::edge_answer`].
    pub fn edge_code(&self, secret: &str) -> String {
        self.edge_answer(secret).expect("verify").code.as_str().to_owned()
    }

    /// The strict verdict: from the records, found through the edge.
    pub fn verify_strict(&self, secret: &str, scopes: &[&str]) -> String {
        block_on(async {
            let legacy = self.legacy.borrow().clone();
            match self.svc.locate(secret, &legacy).await.unwrap() {
                None => self
                    .svc
                    .verify(secret, &legacy, scopes, self.client.get(), self.now())
                    .await
                    .unwrap()
                    .code
                    .as_str()
                    .to_owned(),
                Some(at) => self
                    .svc
                    .verify_strict(
                        &keyward::domain::token::sha256_hex(secret),
                        &at,
                        scopes,
                        self.client.get(),
                        1,
                        self.now(),
                    )
                    .await
                    .unwrap()
                    .code
                    .as_str()
                    .to_owned(),
            }
        })
    }

    pub fn token_json(&self, caller: &str, id: &str) -> Result<Value, Error> {
        let a = self.actor(caller);
        block_on(self.svc.get_token(&a, id, self.now())).map(|v| serde_json::to_value(v).unwrap())
    }
}
