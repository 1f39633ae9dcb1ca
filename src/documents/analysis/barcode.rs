//! Barcodes in pictures: the DNI's PDF417 and QR codes, read with rxing (only those two
//! formats are built). Photos come in any orientation and a little askew: the PDF417
//! detector tries the four right angles itself; a picture it cannot read is tried again
//! turned a few degrees each way, and at a smaller size (phone photos are large and the
//! binarizer's blocks suit a barcode a few hundred pixels wide).

use image::{GrayImage, imageops};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
use rxing::common::HybridBinarizer;
use rxing::{BinaryBitmap, DecodeHints, Luma8LuminanceSource, Reader};

/// The long side a picture is brought down to before the first reading.
const WORKING_SIDE: u32 = 1600;
/// The small skews tried, in degrees, when the picture as it is gives nothing.
const SKEWS: [f32; 4] = [3.0, -3.0, 6.0, -6.0];

fn bitmap(img: &GrayImage) -> Option<BinaryBitmap<HybridBinarizer<Luma8LuminanceSource>>> {
    let source = Luma8LuminanceSource::new(img.as_raw().clone(), img.width(), img.height()).ok()?;
    Some(BinaryBitmap::new(HybridBinarizer::new(source)))
}

fn hints() -> DecodeHints {
    DecodeHints { TryHarder: Some(true), ..Default::default() }
}

/// `img` with its long side at most `side` pixels.
pub fn fit(img: &GrayImage, side: u32) -> GrayImage {
    let long = img.width().max(img.height());
    if long <= side {
        return img.clone();
    }
    let scale = side as f64 / long as f64;
    let w = ((img.width() as f64 * scale).round() as u32).max(1);
    let h = ((img.height() as f64 * scale).round() as u32).max(1);
    imageops::resize(img, w, h, imageops::FilterType::Triangle)
}

/// The pictures to try, in order: as it is (brought down to the working size), then at the
/// original size if that is larger, then turned by each small skew.
fn candidates(img: &GrayImage) -> impl Iterator<Item = GrayImage> + '_ {
    let working = fit(img, WORKING_SIDE);
    let larger = (img.width().max(img.height()) > WORKING_SIDE).then(|| img.clone());
    let skewed = SKEWS.into_iter().map(move |deg| {
        let base = fit(img, WORKING_SIDE);
        rotate_about_center(&base, deg.to_radians(), Interpolation::Bilinear, image::Luma([255u8]))
    });
    std::iter::once(working).chain(larger).chain(skewed)
}

/// The text of the first PDF417 barcode found in `img`.
pub fn read_pdf417(img: &GrayImage) -> Option<String> {
    let mut reader = rxing::pdf417::PDF417Reader;
    candidates(img).find_map(|candidate| {
        let mut bitmap = bitmap(&candidate)?;
        reader.decode_with_hints(&mut bitmap, &hints()).ok().map(|r| r.getText().to_string())
    })
}

/// The text of a QR code in `img` (the first found; a certificate carries one per page).
pub fn read_qr_code(img: &GrayImage) -> Option<String> {
    let mut reader = rxing::qrcode::QRCodeReader;
    candidates(img).take(2).find_map(|candidate| {
        let mut bitmap = bitmap(&candidate)?;
        reader.decode_with_hints(&mut bitmap, &hints()).ok().map(|r| r.getText().to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::Luma;
    use rxing::{BarcodeFormat, EncodeHints, Writer};

    /// A PDF417 barcode of `text` drawn as a picture, `module` pixels a module.
    pub fn pdf417_image(text: &str, module: u32) -> GrayImage {
        let hints =
            EncodeHints { CharacterSet: Some("ISO-8859-1".into()), Margin: Some("0".into()), ..Default::default() };
        let matrix = rxing::pdf417::PDF417Writer
            .encode_with_hints(text, &BarcodeFormat::PDF_417, 0, 0, &hints)
            .expect("encodes");
        scaled(&matrix, module, module * 3)
    }

    /// A QR code of `text`, `module` pixels a module.
    pub fn qr_image(text: &str, module: u32) -> GrayImage {
        let matrix = rxing::qrcode::QRCodeWriter.encode(text, &BarcodeFormat::QR_CODE, 0, 0).expect("encodes");
        scaled(&matrix, module, module)
    }

    fn scaled(m: &rxing::common::BitMatrix, mw: u32, mh: u32) -> GrayImage {
        GrayImage::from_fn(
            m.width() * mw,
            m.height() * mh,
            |x, y| {
                if m.get(x / mw, y / mh) { Luma([0]) } else { Luma([255]) }
            },
        )
    }

    /// A card-sized white picture with `code` pasted at (x, y), some printing around.
    pub fn card_with(code: &GrayImage, width: u32, height: u32, x: u32, y: u32) -> GrayImage {
        let mut card = GrayImage::from_pixel(width, height, Luma([235]));
        for (i, row) in (40..height.saturating_sub(40)).step_by(37).enumerate() {
            for px in 30..(width / 3 + (i as u32 % 5) * 20).min(width) {
                card.put_pixel(px, row, Luma([90]));
            }
        }
        imageops::overlay(&mut card, code, x.into(), y.into());
        card
    }

    pub const CARD: &str = "00512345678@GÓMEZ PEÑA@MARÍA JOSÉ@F@23456789@B@14/02/1985@10/05/2016@209";

    #[test]
    fn reads_pdf417_upright_and_turned() {
        let code = pdf417_image(CARD, 3);
        let card = card_with(&code, code.width() + 200, code.height() + 300, 100, 200);
        assert_eq!(read_pdf417(&card).as_deref(), Some(CARD));
        for turned in [imageops::rotate90(&card), imageops::rotate180(&card), imageops::rotate270(&card)] {
            assert_eq!(read_pdf417(&turned).as_deref(), Some(CARD));
        }
    }

    #[test]
    fn reads_pdf417_a_little_askew() {
        let code = pdf417_image(CARD, 3);
        let card = card_with(&code, code.width() + 200, code.height() + 300, 100, 200);
        for deg in [2.0f32, -2.0] {
            let askew = rotate_about_center(&card, deg.to_radians(), Interpolation::Bilinear, Luma([235]));
            assert_eq!(read_pdf417(&askew).as_deref(), Some(CARD), "{deg}°");
        }
    }

    #[test]
    fn nothing_in_a_picture_without_barcode() {
        let card = card_with(&GrayImage::from_pixel(10, 10, Luma([200])), 800, 500, 100, 100);
        assert_eq!(read_pdf417(&card), None);
        assert_eq!(read_qr_code(&card), None);
    }

    #[test]
    fn reads_qr_codes() {
        let code = qr_image("https://example.org/verificar?c=ABC123", 4);
        let page = card_with(&code, 1200, 1600, 700, 1200);
        assert_eq!(read_qr_code(&page).as_deref(), Some("https://example.org/verificar?c=ABC123"));
    }
}
