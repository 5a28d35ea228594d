//! QR codes of enrollment URLs as PNG images, for printing or showing on a screen.

/// Pixels per QR module.
const SCALE: usize = 8;
/// Quiet zone around the code, in modules (the QR standard asks for 4).
const QUIET: usize = 4;

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The text does not fit a QR code.
    #[error("cannot encode as a QR code: {0}")]
    Encode(String),
    /// PNG encoding failed.
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

/// Encodes `text` as a black-on-white QR code PNG (8-bit grayscale).
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| QrError::Encode(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % width + QUIET, i / width + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let side32 = u32::try_from(side).map_err(|e| QrError::Png(e.to_string()))?;
    let mut enc = png::Encoder::new(&mut out, side32, side32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| QrError::Png(e.to_string()))?;
    w.write_image_data(&pixels).map_err(|e| QrError::Png(e.to_string()))?;
    w.finish().map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn makes_a_decodable_png_of_the_right_size() {
        let url = "https://mdm.example.com/enroll?token=abcdefghijklmnopqrstuvwxyz012345";
        let bytes = super::png(url).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).unwrap();
        assert_eq!(info.width as usize, (code.width() + 8) * 8);
        // The quiet zone is white and the top-left finder pattern's corner is black.
        assert_eq!(buf[0], 255);
        let side = info.width as usize;
        assert_eq!(buf[(4 * 8) * side + 4 * 8], 0);
    }
}
