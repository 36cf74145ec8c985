//! The fonts the generated images are lettered with, loaded once at start-up from a directory of font files
//! (`--font-dir`, default `/usr/share/fonts`; Debian's `fonts-dejavu-core` covers Latin and Cyrillic).
//! Nothing is downloaded at run time and fontconfig is not used.
//!
//! A cosmic-text `FontSystem` needs `&mut` to shape, so each render takes one from a small pool
//! ([`Fonts::with_shaper`]); all of them share one parsed font database.

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use cosmic_text::{FontSystem, SwashCache, fontdb};

/// Families tried, in order, as the sans-serif face (the first present wins).
const SANS_SERIF_FAMILIES: [&str; 4] = ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Open Sans"];

/// One cosmic-text font system and its glyph cache, used by one render at a time.
pub struct Shaper {
    /// Fonts, fallback and shaping caches.
    pub font_system: FontSystem,
    /// Rasterised glyphs.
    pub cache: SwashCache,
}

/// Why no fonts could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The directory holds no font file cosmic-text could read.
    #[error(
        "no fonts found in {dir}: install fonts-dejavu-core or point --font-dir \
         (PROVIDER_SANDBOX_FONT_DIR) at a directory of .ttf/.otf files"
    )]
    NoFonts {
        /// The directory searched.
        dir: PathBuf,
    },
}

/// The parsed font files and the pool of shapers over them.
pub struct Fonts {
    db: fontdb::Database,
    pool: Mutex<Vec<Shaper>>,
    sans_serif: String,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.db.len())
            .field("sans_serif", &self.sans_serif)
            .finish()
    }
}

impl Fonts {
    /// Loads every font file under `dir` (recursively). Errors: [`FontError::NoFonts`] when there is none.
    pub fn load(dir: &Path) -> Result<Self, FontError> {
        let mut db = fontdb::Database::new();
        db.load_fonts_dir(dir);
        let no_fonts = || FontError::NoFonts {
            dir: dir.to_path_buf(),
        };
        let has_family = |name: &str| {
            db.faces()
                .any(|face| face.families.iter().any(|(family, _)| family == name))
        };
        let sans_serif = SANS_SERIF_FAMILIES
            .into_iter()
            .find(|name| has_family(name))
            .map(str::to_owned)
            .or_else(|| {
                db.faces()
                    .find(|face| !face.post_script_name.contains("Emoji"))
                    .and_then(|face| face.families.first().map(|(family, _)| family.clone()))
            })
            .ok_or_else(no_fonts)?;
        db.set_sans_serif_family(sans_serif.clone());
        tracing::info!(dir = %dir.display(), faces = db.len(), %sans_serif, "fonts loaded");
        Ok(Self {
            db,
            pool: Mutex::new(Vec::new()),
            sans_serif,
        })
    }

    /// Runs `work` with a shaper of its own, taken from the pool or made over the shared database; it goes
    /// back to the pool afterwards.
    pub fn with_shaper<R>(&self, work: impl FnOnce(&mut Shaper) -> R) -> R {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut shaper = pooled.unwrap_or_else(|| Shaper {
            // A fixed locale: the pictures must not depend on the machine's settings.
            font_system: FontSystem::new_with_locale_and_db("en-US".into(), self.db.clone()),
            cache: SwashCache::new(),
        });
        let result = work(&mut shaper);
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shaper);
        result
    }
}
