//! Encryption at rest: XChaCha20-Poly1305 with a random 192-bit nonce per document (random
//! nonces of that size never collide in practice). The associated data binds each
//! ciphertext to its document id and kind, so a blob moved to another row fails to open.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use super::keys::DocumentKey;

pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

fn aad(document_id: &str, kind: &str) -> Vec<u8> {
    format!("vecinal document v1\0{document_id}\0{kind}").into_bytes()
}

pub fn seal(key: &DocumentKey, document_id: &str, kind: &str, plaintext: &[u8]) -> anyhow::Result<Sealed> {
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad(document_id, kind) })
        .map_err(|_| anyhow::anyhow!("document encryption failed"))?;
    Ok(Sealed { nonce: nonce.to_vec(), ciphertext })
}

/// As [`seal`], encrypting `plaintext`'s own buffer (the tag is appended): a 10 MiB upload
/// is not copied to encrypt it. The result opens with [`open`] like [`seal`]'s.
pub fn seal_in_place(
    key: &DocumentKey,
    document_id: &str,
    kind: &str,
    mut plaintext: Vec<u8>,
) -> anyhow::Result<Sealed> {
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    plaintext.reserve_exact(16);
    cipher
        .encrypt_in_place(XNonce::from_slice(&nonce), &aad(document_id, kind), &mut plaintext)
        .map_err(|_| anyhow::anyhow!("document encryption failed"))?;
    Ok(Sealed { nonce: nonce.to_vec(), ciphertext: plaintext })
}

pub fn open(
    key: &DocumentKey,
    document_id: &str,
    kind: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> anyhow::Result<Vec<u8>> {
    if nonce.len() != 24 {
        anyhow::bail!("document {document_id}: bad nonce length");
    }
    XChaCha20Poly1305::new(key.bytes().into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad(document_id, kind) })
        .map_err(|_| anyhow::anyhow!("document {document_id} does not decrypt: wrong key or altered data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = DocumentKey::from_bytes([3; 32]);
        let other = DocumentKey::from_bytes([4; 32]);
        let plain = b"%PDF-1.4 certificado sin antecedentes";
        let s = seal(&key, "doc-1", "criminal_record", plain).unwrap();
        assert_ne!(&s.ciphertext[..plain.len()], plain);
        assert_eq!(open(&key, "doc-1", "criminal_record", &s.nonce, &s.ciphertext).unwrap(), plain);
        assert!(open(&other, "doc-1", "criminal_record", &s.nonce, &s.ciphertext).is_err());
        assert!(open(&key, "doc-2", "criminal_record", &s.nonce, &s.ciphertext).is_err(), "bound to its row");
        assert!(open(&key, "doc-1", "identity_document", &s.nonce, &s.ciphertext).is_err(), "bound to its kind");
        let mut flipped = s.ciphertext.clone();
        flipped[0] ^= 1;
        assert!(open(&key, "doc-1", "criminal_record", &s.nonce, &flipped).is_err());
        let again = seal(&key, "doc-1", "criminal_record", plain).unwrap();
        assert_ne!(again.nonce, s.nonce, "a fresh nonce every time");
        let in_place = seal_in_place(&key, "doc-1", "criminal_record", plain.to_vec()).unwrap();
        assert_eq!(in_place.ciphertext.len(), s.ciphertext.len());
        assert_eq!(open(&key, "doc-1", "criminal_record", &in_place.nonce, &in_place.ciphertext).unwrap(), plain);
        assert!(open(&key, "doc-2", "criminal_record", &in_place.nonce, &in_place.ciphertext).is_err());
    }
}
