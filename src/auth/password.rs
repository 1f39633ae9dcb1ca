//! Argon2id hashing on its own threads, one per core, so a burst of sign-ins neither stalls
//! the async workers nor exhausts memory.
//!
//! Each hash needs 19 MiB of working memory (m=19456 KiB). The crate's own
//! `hash_password`/`verify_password` allocate it afresh for every call: the kernel then
//! zeroes 19 MiB of new pages each time (about a tenth of the hash's time), and the
//! allocator keeps what the burst's threads freed (1.14 GB after 10 s of sign-ins, issue
//! 11). Here each hashing thread has its own block, allocated on first use and reused
//! through `hash_password_into_with_memory`: the memory for hashing is bounded by one block
//! per core, whatever the load. The PHC string is parsed and written as the crate does
//! (algorithm, version, parameters and salt of the stored hash), and the comparison is
//! constant-time.
//!
//! The threads take the hashes from one queue and start the next as soon as one ends. With
//! hashes handed to the blocking pool under a semaphore instead, the next hash waited for
//! the finished one's request task to be woken on its worker, release its permit and wake
//! the next task, which then woke a blocking thread: in a burst of sign-ins the cores sat
//! idle for 6–11 % of the time (docs/PERFORMANCE.md, "Memory and sign-in", sixth round).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::oneshot;

use crate::domain::Password;
use crate::error::{AppError, AppResult};

/// Verified against when no account matches, so an unknown email takes as long as a wrong
/// password. Made once with the parameters new hashes get (a test keeps it so); no password
/// matches it that matters, and the answer with it is always `false` anyway.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dmVjaW5hbC1kdW1teS1zYWx0$fN609/nYLSPmvWVT8D4OX7DUwq65YvCT8gRlmgdMwPw";

/// Working memory for one hash at a time, kept between hashes.
type Memory = Vec<Block>;

/// One hash to compute, with the thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads' queue. The threads end once every clone is dropped.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: Sender<Job>,
}

impl PasswordHasher {
    /// Starts one hashing thread per core.
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self::with_threads(cores)
    }

    fn with_threads(threads: usize) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("vecinal-hash-{n}")).spawn(move || hash_jobs(&queue))?;
        }
        Ok(Self { jobs })
    }

    pub async fn hash(&self, password: &Password) -> AppResult<String> {
        self.hash_secret(password.expose()).await
    }

    /// The same argon2id hash of any other secret a person types (the desk's claim codes).
    pub async fn hash_secret(&self, plain: &str) -> AppResult<String> {
        let plain = plain.to_string();
        self.run(move |memory| hash_with(plain.as_bytes(), memory)).await?.map_err(AppError::Internal)
    }

    /// Whether `plain` matches `stored`. With no stored hash a dummy one is checked and the
    /// answer is always `false`.
    pub async fn verify(&self, plain: &str, stored: Option<String>) -> AppResult<bool> {
        let plain = plain.to_string();
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (DUMMY_HASH.to_string(), false),
        };
        let ok = self.run(move |memory| verify_with(plain.as_bytes(), &hash, memory)).await?;
        Ok(ok && real)
    }

    /// Queues `f` for the next free hashing thread and waits for its answer.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Memory) -> T + Send + 'static) -> AppResult<T> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The request may have gone away meanwhile; nobody is left to tell.
            let _gone = answer.send(f(memory));
        });
        self.jobs.send(job).map_err(|_| AppError::Internal(anyhow::anyhow!("the hashing threads have stopped")))?;
        // Dropped unanswered only if the hash panicked.
        answered.await.map_err(|_| AppError::Internal(anyhow::anyhow!("a password hash failed")))
    }
}

/// A hashing thread: takes the next job as soon as it is free, until the queue closes.
fn hash_jobs(queue: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::new();
    loop {
        // One thread waits on the queue at a time; the others wait for the lock. A poisoned
        // lock cannot happen (nothing panics while holding it), and would end the thread.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        // A panicking hash drops its answer (the request gets an error); the thread and its
        // memory stay for the next one.
        let _answered_or_dropped = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
    }
}

/// The parameters of new hashes: the crate's defaults (argon2id, v=19, m=19456, t=2, p=1),
/// OWASP's recommendation.
fn new_hash_argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// `memory` grown to what `params` need (and kept at that size).
fn sized(memory: &mut Memory, params: &Params) {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
}

/// A new PHC string for `plain` with a fresh salt, computed in `memory`.
fn hash_with(plain: &[u8], memory: &mut Memory) -> anyhow::Result<String> {
    let argon2 = new_hash_argon2();
    let params = argon2.params().clone();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?;
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    sized(memory, &params);
    argon2
        .hash_password_into_with_memory(plain, salt_bytes, &mut out, &mut memory[..])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `plain` matches the PHC string `stored`, computed in `memory` with the stored
/// hash's own algorithm, version, parameters and salt. Anything unparsable is `false`.
fn verify_with(plain: &[u8], stored: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
    // Without a version the crate's own verification takes its default (v=19); so does this.
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    sized(memory, &params);
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(plain, salt_bytes, &mut out, &mut memory[..])
        .is_err()
    {
        return false;
    }
    out.ct_eq(expected.as_bytes()).into()
}

/// Hashes synchronously; for the command line, where no runtime is involved.
pub fn hash_now(password: &Password) -> anyhow::Result<String> {
    hash_with(password.expose().as_bytes(), &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn verify(plain: &str, stored: &str) -> bool {
        verify_with(plain.as_bytes(), stored, &mut Vec::new())
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_with(b"una clave cualquiera", &mut Vec::new()).unwrap();
        let b = hash_with(b"una clave cualquiera", &mut Vec::new()).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("una clave cualquiera", &a));
        assert!(!verify("otra clave", &a));
        assert!(!verify("x", "not a hash"));
        // The crate reads them as its own.
        let parsed = PasswordHash::new(&a).unwrap();
        assert!(Argon2::default().verify_password(b"una clave cualquiera", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"otra clave", &parsed).is_err());
    }

    /// Hashes made by the crate with other algorithms, versions, costs, lanes, output
    /// lengths and salts verify here exactly as the crate verifies them, with one memory
    /// reused across all of them (larger, smaller, then larger again).
    #[test]
    fn reused_memory_agrees_with_the_crate_on_other_parameters() {
        let cases = [
            (Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).unwrap()),
            (Algorithm::Argon2id, Version::V0x13, Params::new(256, 3, 2, Some(16)).unwrap()),
            (Algorithm::Argon2i, Version::V0x13, Params::new(512, 1, 1, Some(64)).unwrap()),
            (Algorithm::Argon2d, Version::V0x10, Params::new(128, 4, 4, None).unwrap()),
            (Algorithm::Argon2id, Version::V0x10, Params::new(20_000, 1, 3, Some(40)).unwrap()),
            (Algorithm::Argon2id, Version::V0x13, Params::new(64, 2, 1, None).unwrap()),
        ];
        let mut memory = Vec::new();
        for (algorithm, version, params) in cases {
            let crate_argon2 = Argon2::new(algorithm, version, params.clone());
            let salt = SaltString::generate(&mut OsRng);
            let stored = crate_argon2.hash_password(b"clave de prueba larga", &salt).unwrap().to_string();
            let parsed = PasswordHash::new(&stored).unwrap();
            for attempt in ["clave de prueba larga", "clave de prueba larg", ""] {
                let ours = verify_with(attempt.as_bytes(), &stored, &mut memory);
                let theirs = Argon2::default().verify_password(attempt.as_bytes(), &parsed).is_ok();
                assert_eq!(ours, theirs, "{stored} with {attempt:?}");
                assert_eq!(ours, attempt == "clave de prueba larga", "{stored} with {attempt:?}");
            }
        }
        // Altered strings are refused, not panicked on.
        let good = hash_with(b"clave", &mut memory).unwrap();
        for bad in [
            good.replace("m=19456", "m=19457"),
            good.replace("t=2", "t=3"),
            good.replace("argon2id", "argon2i"),
            good.replace("v=19", "v=16"),
            good.replace("v=19", "v=99"),
            good.replace("m=19456", "m=1"),
            good[..good.len() - 4].to_string(),
            good.replace("p=1", "p=0"),
        ] {
            assert!(!verify_with(b"clave", &bad, &mut memory), "{bad}");
        }
        assert!(verify_with(b"clave", &good, &mut memory));
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_new_hashes() {
        let new = hash_with(b"x", &mut Vec::new()).unwrap();
        let prefix = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(prefix(DUMMY_HASH), prefix(&new));
        let salt = SaltString::from_b64("dmVjaW5hbC1kdW1teS1zYWx0").unwrap();
        let remade = Argon2::default().hash_password(b"vecinal dummy password for timing", &salt).unwrap().to_string();
        assert_eq!(DUMMY_HASH, remade, "the dummy hash is this");
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.hash.unwrap().len(), Params::DEFAULT_OUTPUT_LEN);
        assert!(verify("vecinal dummy password for timing", DUMMY_HASH));
    }

    #[tokio::test]
    async fn the_threads_answer_every_hash_in_a_burst() {
        let hasher = PasswordHasher::new().unwrap();
        let password = Password::parse("glaciar tortuga bandoneon mate", &[]).unwrap();
        let stored = hasher.hash(&password).await.unwrap();
        let answers = futures_util::future::join_all((0..6).map(|i| {
            let hasher = hasher.clone();
            let stored = stored.clone();
            async move {
                hasher.verify(if i % 2 == 0 { "glaciar tortuga bandoneon mate" } else { "otra" }, Some(stored)).await
            }
        }))
        .await;
        let answers: Vec<bool> = answers.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers, [true, false, true, false, true, false]);
        assert!(!hasher.verify("vecinal dummy password for timing", None).await.unwrap(), "no account, no sign-in");
    }

    #[tokio::test]
    async fn a_thread_keeps_its_memory_and_survives_a_panicking_hash() {
        let hasher = PasswordHasher::with_threads(1).unwrap();
        let password = Password::parse("glaciar tortuga bandoneon mate", &[]).unwrap();
        let stored = hasher.hash(&password).await.unwrap();
        let memory_of = || hasher.run(|memory| (memory.as_ptr() as usize, memory.len()));
        let first = memory_of().await.unwrap();
        assert_eq!(first.1, Params::default().block_count(), "sized by the first hash");
        assert!(hasher.verify("glaciar tortuga bandoneon mate", Some(stored.clone())).await.unwrap());
        assert_eq!(memory_of().await.unwrap(), first, "the same block, not a new one");

        let failed = hasher.run(|_| -> bool { panic!("a hash that fails") }).await;
        assert!(failed.is_err(), "the request is told");
        assert!(hasher.verify("glaciar tortuga bandoneon mate", Some(stored)).await.unwrap(), "the thread goes on");
    }
}
