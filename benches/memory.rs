//! Helper of `scripts/memory`, two commands:
//!
//! - `argon2 SECONDS [THREADS]`: raw argon2id verifications per second with the service's
//!   parameters (m=19456, t=2, p=1), one thread per core by default, two ways: the crate's
//!   own `verify_password` (a fresh 19 MiB block per call) and one block per thread reused
//!   through `hash_password_into_with_memory`. Prints `crate_verify_per_sec N` and
//!   `reused_block_verify_per_sec N`, and the CPU time each verification took
//!   (`crate_cpu_ms_per_verify`, `reused_block_cpu_ms_per_verify`, from /proc/self/stat),
//!   which other work on the machine does not change.
//! - `signin BASE CLIENTS SECONDS`: CLIENTS browsers sign in through the real form (GET
//!   `/login` for its CSRF cookie and token, POST the form, expect the 303) to the accounts
//!   `scripts/memory.py residents` registered, each from its own `X-Forwarded-For` address,
//!   again and again for SECONDS. Prints `signins N`, `failures N`, `seconds S` and
//!   `signins_per_sec R`. The client runs on one thread of the machine it measures, and
//!   takes little of it (Python's took about a tenth of the two cores, which the service
//!   then lacked).
//! - `files DIR SIZE`: writes `doc.pdf`, `photo.jpg` and `scan.png` of exactly SIZE bytes
//!   each, real files the upload check accepts (a PDF written by lopdf, a noise photo
//!   encoded as JPEG and as PNG by the image crate, each padded with a comment segment or
//!   an ancillary chunk to the size).
//!
//! Run through the script, or `cargo bench --bench memory -- argon2 5`.

use std::time::{Duration, Instant};

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, Block, PasswordHash, PasswordHasher as _, PasswordVerifier as _};

fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.first().map(String::as_str) {
        Some("argon2") => {
            let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
            let threads: usize = args
                .get(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
            argon2_rates(Duration::from_secs(secs), threads);
        }
        Some("signin") => {
            let usage = "signin BASE CLIENTS SECONDS";
            let base = args.get(1).expect(usage).trim_end_matches('/').to_string();
            let clients: usize = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
            let secs: f64 = args.get(3).and_then(|s| s.parse().ok()).expect(usage);
            signin(base, clients, Duration::from_secs_f64(secs));
        }
        Some("files") => {
            let dir = std::path::PathBuf::from(args.get(1).expect("files DIR SIZE"));
            let size: usize = args.get(2).and_then(|s| s.parse().ok()).expect("files DIR SIZE");
            std::fs::write(dir.join("doc.pdf"), pdf_of_size(size)).unwrap();
            std::fs::write(dir.join("photo.jpg"), jpeg_of_size(size)).unwrap();
            std::fs::write(dir.join("scan.png"), png_of_size(size)).unwrap();
        }
        _ => {
            eprintln!(
                "usage: memory argon2 SECONDS [THREADS] | memory signin BASE CLIENTS SECONDS | memory files DIR SIZE"
            );
            std::process::exit(2);
        }
    }
}

const PASSWORD: &[u8] = b"glaciar tortuga bandoneon mate";

fn argon2_rates(run_for: Duration, threads: usize) {
    let salt = SaltString::generate(&mut OsRng);
    let stored = Argon2::default().hash_password(PASSWORD, &salt).unwrap().to_string();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");

    let (crate_rate, crate_cpu) = per_second(run_for, threads, |_| {
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(Argon2::default().verify_password(PASSWORD, &parsed).is_ok());
    });
    println!("crate_verify_per_sec {crate_rate:.1}");
    println!("crate_cpu_ms_per_verify {crate_cpu:.2}");

    let (reused_rate, reused_cpu) = per_second(run_for, threads, |blocks| {
        let parsed = PasswordHash::new(&stored).unwrap();
        let params = argon2::Params::try_from(&parsed).unwrap();
        let mut salt_buf = [0u8; 64];
        let salt = parsed.salt.unwrap().decode_b64(&mut salt_buf).unwrap();
        let expected = parsed.hash.unwrap();
        let mut out = vec![0u8; expected.len()];
        if blocks.len() < params.block_count() {
            blocks.resize(params.block_count(), Block::default());
        }
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into_with_memory(PASSWORD, salt, &mut out, &mut blocks[..])
            .unwrap();
        assert_eq!(out, expected.as_bytes());
    });
    println!("reused_block_verify_per_sec {reused_rate:.1}");
    println!("reused_block_cpu_ms_per_verify {reused_cpu:.2}");
}

/// The residents' password and addresses, as `scripts/memory.py` registers them.
const RESIDENT_PASSWORD: &str = "glaciar tortuga bandoneon mate";

fn resident(i: usize) -> String {
    format!("vecino{i}@memoria.example.org")
}

fn signin(base: String, clients: usize, run_for: Duration) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = Instant::now();
    let results: Vec<(usize, usize)> = rt.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|i| {
                let (http, base) = (http.clone(), base.clone());
                tokio::spawn(async move {
                    let ip = format!("10.2.{}.{}", i / 250, i % 250 + 1);
                    let (mut ok, mut failed) = (0, 0);
                    while start.elapsed() < run_for {
                        if sign_in_once(&http, &base, &ip, &resident(i)).await {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                    }
                    (ok, failed)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let elapsed = start.elapsed().as_secs_f64();
    let ok: usize = results.iter().map(|r| r.0).sum();
    let failed: usize = results.iter().map(|r| r.1).sum();
    println!("signins {ok} failures {failed} seconds {elapsed:.2}");
    println!("signins_per_sec {:.1}", ok as f64 / elapsed);
}

/// One sign-in as a fresh browser: the form's cookies and token, then the POST.
async fn sign_in_once(http: &reqwest::Client, base: &str, ip: &str, email: &str) -> bool {
    let Ok(form) = http.get(format!("{base}/login")).header("X-Forwarded-For", ip).send().await else {
        return false;
    };
    let cookies: Vec<String> = form
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let Ok(html) = form.text().await else { return false };
    let marker = "name=\"csrf_token\" value=\"";
    let Some(token) = html.split_once(marker).and_then(|(_, rest)| rest.split_once('"')).map(|(t, _)| t.to_string())
    else {
        return false;
    };
    let answer = http
        .post(format!("{base}/login"))
        .header("X-Forwarded-For", ip)
        .header("Origin", base)
        .header(reqwest::header::COOKIE, cookies.join("; "))
        .form(&[("csrf_token", token.as_str()), ("email", email), ("password", RESIDENT_PASSWORD)])
        .send()
        .await;
    matches!(answer, Ok(r) if r.status() == reqwest::StatusCode::SEE_OTHER)
}

/// CPU time of this process so far (user + system), in milliseconds; Linux's clock tick
/// is 1/100 s.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the command's `)`.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 10.0
}

/// Calls `f` on `threads` threads for `run_for`, each thread with its own block buffer;
/// returns completed calls per second and CPU milliseconds per call.
fn per_second(run_for: Duration, threads: usize, f: impl Fn(&mut Vec<Block>) + Sync) -> (f64, f64) {
    let cpu_start = cpu_ms();
    let start = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut blocks = Vec::new();
                    let mut n = 0usize;
                    while start.elapsed() < run_for {
                        f(&mut blocks);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    (done as f64 / start.elapsed().as_secs_f64(), (cpu_ms() - cpu_start) / done as f64)
}

/// A real one-page PDF of exactly `size` bytes: its content stream is padded with spaces.
fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut padding = 0;
    loop {
        let file = pdf(padding);
        match file.len().cmp(&size) {
            std::cmp::Ordering::Equal => return file,
            std::cmp::Ordering::Less => padding += size - file.len(),
            std::cmp::Ordering::Greater => padding -= (file.len() - size).min(padding),
        }
    }
}

fn pdf(padding: usize) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica"});
    let resources = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => font}});
    let operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 14.into()]),
        Operation::new("Td", vec![72.into(), 760.into()]),
        Operation::new("Tj", vec![Object::string_literal("Cooperativa Electrica - factura")]),
        Operation::new("ET", vec![]),
    ];
    let mut content = Content { operations }.encode().unwrap();
    content.resize(content.len() + padding, b' ');
    let contents = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id, "Contents" => contents});
    let tree = dictionary! {
        "Type" => "Pages",
        "Kids" => vec![page.into()],
        "Count" => 1,
        "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Noise, so the encoders cannot shrink it: about 3 bytes a pixel.
fn noise(w: u32, h: u32) -> image::RgbImage {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    image::RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    })
}

fn encode(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A noise photo at about 80 % of `size`, then comment segments (FF FE) after the start
/// marker up to the size.
fn jpeg_of_size(size: usize) -> Vec<u8> {
    let side = ((size as f64 * 0.8 / 3.0).sqrt()) as u32;
    let photo = encode(&noise(side, side), image::ImageFormat::Jpeg);
    assert!(photo.len() + 4 <= size, "photo {} larger than {size}", photo.len());
    let mut out = photo[..2].to_vec();
    let mut missing = size - photo.len();
    while missing > 0 {
        // A segment is its marker (2), its length (2, counting itself) and data: 4 to
        // 65 537 bytes. Never leave fewer than 4 for the next one.
        let mut segment = missing.min(65_537);
        if (1..4).contains(&(missing - segment)) {
            segment -= 4;
        }
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((segment - 2) as u16).to_be_bytes());
        out.resize(out.len() + segment - 4, b'x');
        missing -= segment;
    }
    out.extend_from_slice(&photo[2..]);
    assert_eq!(out.len(), size);
    out
}

/// A noise image at about 80 % of `size`, then one private ancillary chunk before IEND.
fn png_of_size(size: usize) -> Vec<u8> {
    let side = ((size as f64 * 0.8 / 3.0).sqrt()) as u32;
    let png = encode(&noise(side, side), image::ImageFormat::Png);
    let (body, iend) = png.split_at(png.len() - 12);
    let pad = size - png.len() - 12;
    let mut chunk = Vec::with_capacity(pad + 12);
    chunk.extend_from_slice(&(pad as u32).to_be_bytes());
    let start = chunk.len();
    chunk.extend_from_slice(b"vcPd");
    chunk.resize(chunk.len() + pad, 0);
    let crc = crc32(&chunk[start..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let out = [body, &chunk, iend].concat();
    assert_eq!(out.len(), size);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
