//! A tiny whisper model with random weights, for tests: a valid whisper.cpp (legacy ggml) model file that
//! loads in milliseconds and runs `full()` on 11 s of audio in about a second, so the whole transcription
//! pipeline can be exercised without downloading a real model. It transcribes nothing meaningful: the text
//! it produces is deterministic garbage (possibly empty).
//!
//! File layout, as read by `whisper_model_load` in whisper.cpp 1.8 (`src/whisper.cpp`), all little endian:
//!
//! 1. `u32` magic `0x67676d6c` ("ggml");
//! 2. 11 × `i32` hyper-parameters: n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//!    n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype (1 = F16 weights);
//! 3. mel filters: `i32` n_mel, `i32` n_fft (201), `f32[n_mel·n_fft]`;
//! 4. vocabulary: `i32` count, then per token `u32` length and its bytes; the loader invents the rest up
//!    to n_vocab (special, language and timestamp tokens). n_vocab ≥ 51865 makes the model multilingual;
//! 5. tensors until end of file: `i32` n_dims, `i32` name length, `i32` type (0 = F32, 1 = F16),
//!    `i32 ne[n_dims]` in ggml order (fastest-varying first), the name, then the data.
//!
//! Pitfalls this generator avoids: the vocabulary must contain the token `" "` (whisper.cpp otherwise
//! throws a C++ exception that aborts the whole process); the conv kernels and the large matrices must be
//! F16 when ftype is 1 (the loader checks each tensor's byte size against the type it expects); every
//! tensor the loader creates must be present, with exactly its shape.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Hyper-parameters of the generated model.
const N_VOCAB: i32 = 51_865;
const N_AUDIO_CTX: i32 = 1_500;
const N_STATE: i32 = 64;
const N_HEAD: i32 = 1;
const N_AUDIO_LAYER: i32 = 1;
/// Short text context: whisper decodes at most n_text_ctx/2 tokens per window, so random weights stop sooner.
const N_TEXT_CTX: i32 = 64;
const N_TEXT_LAYER: i32 = 1;
const N_MELS: i32 = 80;
const FTYPE_F16: i32 = 1;
const N_FFT: i32 = 201;
/// Ordinary text tokens of the multilingual tokenizer; the loader adds the special tokens after them.
const N_TEXT_TOKENS: usize = 50_257;
/// Seed of the weights, so every run writes the same file.
const SEED: u64 = 0x5EED_0F5B_EEC4;

const GGML_TYPE_F32: i32 = 0;
const GGML_TYPE_F16: i32 = 1;

/// Writes the tiny random-weight multilingual model to `path` (about 7.9 MB; deterministic).
///
/// Dimensions: 64-wide state, one attention head, one encoder and one decoder layer, 80 mel bins,
/// n_vocab 51865, F16 weights. Errors: any I/O error creating or writing the file.
pub fn write_tiny_model(path: &Path) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    write_model(&mut out)?;
    out.flush()
}

/// The same model as [`write_tiny_model`], in memory.
pub fn tiny_model_bytes() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 << 20);
    // Writing to a Vec cannot fail.
    let _ = write_model(&mut bytes);
    bytes
}

fn write_model(out: &mut impl Write) -> io::Result<()> {
    let mut rng = SplitMix64(SEED);
    out.write_all(&0x6767_6d6c_u32.to_le_bytes())?;
    for value in [
        N_VOCAB,
        N_AUDIO_CTX,
        N_STATE,
        N_HEAD,
        N_AUDIO_LAYER,
        N_TEXT_CTX,
        N_STATE,
        N_HEAD,
        N_TEXT_LAYER,
        N_MELS,
        FTYPE_F16,
    ] {
        write_i32(out, value)?;
    }

    // Mel filters: non-negative weights, as a real filter bank has.
    write_i32(out, N_MELS)?;
    write_i32(out, N_FFT)?;
    for _ in 0..(N_MELS * N_FFT) {
        out.write_all(&(rng.uniform() * 0.02).abs().to_le_bytes())?;
    }

    // Vocabulary: printable ASCII (which includes " ") and then made-up ASCII syllables, so any text the
    // model produces is valid UTF-8.
    write_i32(out, N_TEXT_TOKENS as i32)?;
    for id in 0..N_TEXT_TOKENS {
        let token = token_text(id);
        out.write_all(&(token.len() as u32).to_le_bytes())?;
        out.write_all(token.as_bytes())?;
    }

    let state = N_STATE;
    let mut tensors = Tensors { out, rng: &mut rng };
    // Encoder.
    tensors.f32_random("encoder.positional_embedding", &[state, N_AUDIO_CTX], 0.02)?;
    tensors.f16_random("encoder.conv1.weight", &[3, N_MELS, state])?;
    tensors.f32_const("encoder.conv1.bias", &[1, state], 0.0)?;
    tensors.f16_random("encoder.conv2.weight", &[3, state, state])?;
    tensors.f32_const("encoder.conv2.bias", &[1, state], 0.0)?;
    tensors.f32_const("encoder.ln_post.weight", &[state], 1.0)?;
    tensors.f32_const("encoder.ln_post.bias", &[state], 0.0)?;
    for layer in 0..N_AUDIO_LAYER {
        let p = format!("encoder.blocks.{layer}");
        tensors.block_common(&p, state, "attn")?;
    }
    // Decoder.
    tensors.f32_random("decoder.positional_embedding", &[state, N_TEXT_CTX], 0.02)?;
    tensors.f16_random("decoder.token_embedding.weight", &[state, N_VOCAB])?;
    tensors.f32_const("decoder.ln.weight", &[state], 1.0)?;
    tensors.f32_const("decoder.ln.bias", &[state], 0.0)?;
    for layer in 0..N_TEXT_LAYER {
        let p = format!("decoder.blocks.{layer}");
        tensors.block_common(&p, state, "attn")?;
        tensors.attention(&p, state, "cross_attn")?;
    }
    Ok(())
}

/// The text of token `id`: printable ASCII first, then syllables such as " ko", "ban" or " lite".
fn token_text(id: usize) -> String {
    const PRINTABLE: usize = 0x7f - 0x20;
    if id < PRINTABLE {
        return char::from(0x20 + id as u8).to_string();
    }
    const CONSONANTS: &[u8] = b"bcdfghjklmnprstvwz";
    const VOWELS: &[u8] = b"aeiou";
    let mut n = id - PRINTABLE;
    let mut text = String::new();
    if n.is_multiple_of(2) {
        text.push(' ');
    }
    n /= 2;
    loop {
        text.push(char::from(CONSONANTS[n % CONSONANTS.len()]));
        n /= CONSONANTS.len();
        text.push(char::from(VOWELS[n % VOWELS.len()]));
        n /= VOWELS.len();
        if n == 0 {
            break;
        }
    }
    text
}

struct Tensors<'a, W: Write> {
    out: &'a mut W,
    rng: &'a mut SplitMix64,
}

impl<W: Write> Tensors<'_, W> {
    /// Layer norms, self-attention and MLP: the parts encoder and decoder blocks share.
    fn block_common(&mut self, p: &str, state: i32, attn: &str) -> io::Result<()> {
        self.f32_const(&format!("{p}.mlp_ln.weight"), &[state], 1.0)?;
        self.f32_const(&format!("{p}.mlp_ln.bias"), &[state], 0.0)?;
        self.f16_random(&format!("{p}.mlp.0.weight"), &[state, 4 * state])?;
        self.f32_const(&format!("{p}.mlp.0.bias"), &[4 * state], 0.0)?;
        self.f16_random(&format!("{p}.mlp.2.weight"), &[4 * state, state])?;
        self.f32_const(&format!("{p}.mlp.2.bias"), &[state], 0.0)?;
        self.attention(p, state, attn)
    }

    /// One attention: `{p}.{attn}_ln.*` and `{p}.{attn}.{query,key,value,out}.*` (key has no bias).
    fn attention(&mut self, p: &str, state: i32, attn: &str) -> io::Result<()> {
        self.f32_const(&format!("{p}.{attn}_ln.weight"), &[state], 1.0)?;
        self.f32_const(&format!("{p}.{attn}_ln.bias"), &[state], 0.0)?;
        self.f16_random(&format!("{p}.{attn}.query.weight"), &[state, state])?;
        self.f32_const(&format!("{p}.{attn}.query.bias"), &[state], 0.0)?;
        self.f16_random(&format!("{p}.{attn}.key.weight"), &[state, state])?;
        self.f16_random(&format!("{p}.{attn}.value.weight"), &[state, state])?;
        self.f32_const(&format!("{p}.{attn}.value.bias"), &[state], 0.0)?;
        self.f16_random(&format!("{p}.{attn}.out.weight"), &[state, state])?;
        self.f32_const(&format!("{p}.{attn}.out.bias"), &[state], 0.0)
    }

    fn header(&mut self, name: &str, ne: &[i32], ggml_type: i32) -> io::Result<usize> {
        write_i32(self.out, ne.len() as i32)?;
        write_i32(self.out, name.len() as i32)?;
        write_i32(self.out, ggml_type)?;
        for &n in ne {
            write_i32(self.out, n)?;
        }
        self.out.write_all(name.as_bytes())?;
        Ok(ne.iter().map(|&n| n as usize).product())
    }

    /// A weight matrix in F16, uniform with the variance of a 1/sqrt(fan_in) initialisation.
    fn f16_random(&mut self, name: &str, ne: &[i32]) -> io::Result<()> {
        let count = self.header(name, ne, GGML_TYPE_F16)?;
        let fan_in = ne.iter().take(ne.len() - 1).product::<i32>().max(1) as f32;
        let scale = (3.0 / fan_in).sqrt();
        let mut data = Vec::with_capacity(count * 2);
        for _ in 0..count {
            data.extend_from_slice(&f32_to_f16_bits(self.rng.uniform() * scale).to_le_bytes());
        }
        self.out.write_all(&data)
    }

    fn f32_random(&mut self, name: &str, ne: &[i32], scale: f32) -> io::Result<()> {
        let count = self.header(name, ne, GGML_TYPE_F32)?;
        let mut data = Vec::with_capacity(count * 4);
        for _ in 0..count {
            data.extend_from_slice(&(self.rng.uniform() * scale).to_le_bytes());
        }
        self.out.write_all(&data)
    }

    fn f32_const(&mut self, name: &str, ne: &[i32], value: f32) -> io::Result<()> {
        let count = self.header(name, ne, GGML_TYPE_F32)?;
        let data: Vec<u8> = std::iter::repeat_n(value.to_le_bytes(), count)
            .flatten()
            .collect();
        self.out.write_all(&data)
    }
}

fn write_i32(out: &mut impl Write, value: i32) -> io::Result<()> {
    out.write_all(&value.to_le_bytes())
}

/// IEEE 754 half precision, round to nearest; values below the smallest normal become zero, which is
/// harmless for weights of order 0.01-1.
fn f32_to_f16_bits(value: f32) -> u16 {
    let bits = value.to_bits();
    let sign = (bits >> 16) & 0x8000;
    let exponent = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mantissa = bits & 0x7f_ffff;
    if exponent <= 0 {
        return sign as u16;
    }
    if exponent >= 0x1f {
        return (sign | 0x7c00) as u16;
    }
    let mut half = sign | ((exponent as u32) << 10) | (mantissa >> 13);
    if mantissa & 0x1000 != 0 {
        // A carry out of the mantissa correctly bumps the exponent.
        half += 1;
    }
    half as u16
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for test weights.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`.
    fn uniform(&mut self) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        unit * 2.0 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion_matches_known_values() {
        assert_eq!(f32_to_f16_bits(0.0), 0x0000);
        assert_eq!(f32_to_f16_bits(1.0), 0x3c00);
        assert_eq!(f32_to_f16_bits(-2.0), 0xc000);
        assert_eq!(f32_to_f16_bits(0.5), 0x3800);
        assert_eq!(f32_to_f16_bits(65504.0), 0x7bff);
    }

    #[test]
    fn vocabulary_holds_a_space_and_is_ascii() {
        assert_eq!(token_text(0), " ");
        assert!(
            (0..N_TEXT_TOKENS).all(|id| token_text(id).is_ascii() && !token_text(id).is_empty())
        );
    }

    #[test]
    fn model_is_deterministic() {
        assert_eq!(tiny_model_bytes(), tiny_model_bytes());
    }
}
