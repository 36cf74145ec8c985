//! DOCX and ODT: a zip archive with the text in one XML member (`word/document.xml`, `content.xml`),
//! read with `zip` and walked with `quick-xml`. Paragraphs become lines; a table becomes one line per row
//! with its cells separated by ` | ` (a cell's paragraphs joined by spaces), so a table stays readable
//! in a `.txt`.
//!
//! Zip bombs: the member is read through a limit of [`Limits::max_xml_bytes`], whatever size its header
//! declares, so a small archive that inflates to gigabytes stops there as TOO_LARGE, having used at most
//! that much memory. Only that one member is ever inflated.

use std::io::{Cursor, Read as _};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::extract::{ExtractError, Extracted, Format, Limits, tidy};

/// The OLE2 compound-file signature: Word 97–2003 files, and Office files encrypted with a password
/// (their zip package is stored inside one, encrypted).
const OLE_SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The office format of a zip archive: [`Format::Docx`] with `word/document.xml`, [`Format::Odt`] with a
/// `mimetype` of OpenDocument text; `None` for any other archive.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if archive.index_for_name("word/document.xml").is_some() {
        return Some(Format::Docx);
    }
    let mut mimetype = String::new();
    archive
        .by_name("mimetype")
        .ok()?
        .take(100)
        .read_to_string(&mut mimetype)
        .ok()?;
    (mimetype.trim() == "application/vnd.oasis.opendocument.text").then_some(Format::Odt)
}

/// Whether `bytes` are an OLE2 compound file: a password-protected DOCX/ODT when the name says so.
pub fn is_ole(bytes: &[u8]) -> bool {
    bytes.starts_with(OLE_SIGNATURE)
}

/// The text of a DOCX: the paragraphs and tables of `word/document.xml`. Errors: corrupt archive or
/// XML, [`ExtractError::TooLarge`] when the XML inflates beyond the limit.
pub fn docx(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let xml = member(bytes, "word/document.xml", limits)?;
    text_of(&xml, &DOCX)
}

/// The text of an ODT: the paragraphs, headings and tables of `content.xml`. Errors as [`docx`].
pub fn odt(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let xml = member(bytes, "content.xml", limits)?;
    text_of(&xml, &ODT)
}

/// Inflates the archive member `name`, at most `limits.max_xml_bytes` of it.
fn member(bytes: &[u8], name: &str, limits: &Limits) -> Result<Vec<u8>, ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ExtractError::Corrupt(format!("zip: {e}")))?;
    let file = archive.by_name(name).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(m) if m.contains("assword") => {
            ExtractError::Encrypted
        }
        e => ExtractError::Corrupt(format!("{name}: {e}")),
    })?;
    if file.size() > limits.max_xml_bytes {
        return Err(ExtractError::TooLarge(format!(
            "{name} inflates to {} bytes (at most {})",
            file.size(),
            limits.max_xml_bytes
        )));
    }
    let mut xml = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0).min(1 << 20));
    // The header's size may lie: read one byte past the limit to know.
    file.take(limits.max_xml_bytes + 1)
        .read_to_end(&mut xml)
        .map_err(|e| ExtractError::Corrupt(format!("{name}: {e}")))?;
    if xml.len() as u64 > limits.max_xml_bytes {
        return Err(ExtractError::TooLarge(format!(
            "{name} inflates to more than {} bytes",
            limits.max_xml_bytes
        )));
    }
    Ok(xml)
}

/// The element names (local, without prefix) that carry a format's text.
struct Dialect {
    /// Paragraph-like elements: each ends a line.
    paragraphs: &'static [&'static str],
    /// When set, text counts only inside these elements (DOCX: `w:t`; field codes and deleted text
    /// live in other elements); otherwise any text inside a paragraph counts (ODT).
    text: Option<&'static str>,
    /// A table, its row and its cell.
    table: &'static str,
    row: &'static str,
    cell: &'static str,
    /// A tab character.
    tab: &'static str,
    /// Line breaks inside a paragraph.
    breaks: &'static [&'static str],
    /// Runs of spaces (`text:s`, with a count in `text:c`).
    spaces: Option<&'static str>,
    /// The element a tab or break must be inside to count (DOCX: the run `w:r`; `w:tab` also defines tab
    /// stops in paragraph properties).
    inline_parent: Option<&'static str>,
}

const DOCX: Dialect = Dialect {
    paragraphs: &["p"],
    text: Some("t"),
    table: "tbl",
    row: "tr",
    cell: "tc",
    tab: "tab",
    breaks: &["br", "cr"],
    spaces: None,
    inline_parent: Some("r"),
};

const ODT: Dialect = Dialect {
    paragraphs: &["p", "h"],
    text: None,
    table: "table",
    row: "table-row",
    cell: "table-cell",
    tab: "tab",
    breaks: &["line-break"],
    spaces: Some("s"),
    inline_parent: None,
};

/// A table being read: the row so far and the cell so far.
#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: String,
}

/// What has been read so far.
#[derive(Default)]
struct Collector {
    lines: Vec<String>,
    paragraph: String,
    tables: Vec<Table>,
}

impl Collector {
    /// Appends `text` to the innermost open cell, or as a line of its own.
    fn emit(&mut self, text: String) {
        match self.tables.last_mut() {
            Some(table) => {
                if !table.cell.is_empty() && !text.is_empty() {
                    table.cell.push(' ');
                }
                table.cell.push_str(&text);
            }
            None => self.lines.push(text),
        }
    }

    fn end_paragraph(&mut self) {
        let paragraph = std::mem::take(&mut self.paragraph);
        let paragraph = paragraph.trim_end().to_string();
        self.emit(paragraph);
    }

    fn end_cell(&mut self) {
        if let Some(table) = self.tables.last_mut() {
            let cell = std::mem::take(&mut table.cell);
            table.row.push(cell.trim().to_string());
        }
    }

    fn end_row(&mut self) {
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let row = std::mem::take(&mut table.row);
        if row.iter().all(String::is_empty) {
            return;
        }
        let line = row.join(" | ");
        // A nested table's row belongs to the outer table's cell.
        let depth = self.tables.len();
        match depth.checked_sub(2).and_then(|i| self.tables.get_mut(i)) {
            Some(outer) => {
                if !outer.cell.is_empty() {
                    outer.cell.push(' ');
                }
                outer.cell.push_str(&line);
            }
            None => self.lines.push(line),
        }
    }
}

fn text_of(xml: &[u8], dialect: &Dialect) -> Result<Extracted, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Collector::default();
    let corrupt = |e: quick_xml::Error| ExtractError::Corrupt(format!("XML: {e}"));
    loop {
        let event = reader.read_event().map_err(corrupt)?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if name == dialect.table {
                    out.tables.push(Table::default());
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                let inline = dialect
                    .inline_parent
                    .is_none_or(|parent| stack.last().is_some_and(|p| p == parent));
                if inline && name == dialect.tab {
                    out.paragraph.push('\t');
                } else if inline && dialect.breaks.contains(&name) {
                    out.paragraph.push('\n');
                } else if dialect.spaces == Some(name) {
                    let count = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "c")
                        .and_then(|a| a.value.parse::<usize>().ok())
                        .unwrap_or(1)
                        .min(1000);
                    out.paragraph.push_str(&" ".repeat(count));
                } else if dialect.paragraphs.contains(&name) {
                    // An empty paragraph: an empty line.
                    out.end_paragraph();
                } else if name == dialect.cell {
                    out.end_cell();
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                stack.pop();
                if dialect.paragraphs.contains(&name) {
                    out.end_paragraph();
                } else if name == dialect.cell {
                    out.end_cell();
                } else if name == dialect.row {
                    out.end_row();
                } else if name == dialect.table {
                    out.tables.pop();
                }
            }
            Event::Text(e) if counts_text(&stack, dialect) => {
                out.paragraph.push_str(&e.xml10_content());
            }
            Event::CData(e) if counts_text(&stack, dialect) => {
                out.paragraph.push_str(&e.xml10_content());
            }
            Event::GeneralRef(e) if counts_text(&stack, dialect) => {
                let resolved = match e.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match &*e {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                    Err(_) => None,
                };
                if let Some(c) = resolved {
                    out.paragraph.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Extracted {
        text: tidy(&out.lines.join("\n")),
        pages: 0,
        ocr_pages: 0,
        encoding: String::new(),
    })
}

/// Whether character data at this point of the tree is document text.
fn counts_text(stack: &[String], dialect: &Dialect) -> bool {
    match dialect.text {
        Some(text) => stack.last().is_some_and(|name| name == text),
        None => stack
            .iter()
            .any(|name| dialect.paragraphs.contains(&name.as_str())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn docx_paragraphs_and_tables() {
        let xml = br#"<w:document xmlns:w="x"><w:body>
            <w:p><w:pPr><w:tabs><w:tab w:val="left"/></w:tabs></w:pPr><w:r><w:t>Hello</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">w&amp;rld </w:t></w:r><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p><w:p><w:r><w:t>b2</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:t>End</w:t></w:r></w:p></w:body></w:document>"#;
        let text = text_of(xml, &DOCX).unwrap().text;
        assert_eq!(text, "Hello\tw&rld\nA | B b2\n1 |\nEnd");
    }

    #[test]
    fn odt_paragraphs() {
        let xml = br#"<office:document-content xmlns:text="t" xmlns:table="u"><office:body><office:text>
            <text:h>Title</text:h><text:p>a<text:s text:c="2"/>b<text:span>c</text:span></text:p>
            <table:table><table:table-row><table:table-cell><text:p>x</text:p></table:table-cell><table:table-cell><text:p>y</text:p></table:table-cell></table:table-row></table:table>
            </office:text></office:body></office:document-content>"#;
        let text = text_of(xml, &ODT).unwrap().text;
        assert_eq!(text, "Title\na  bc\nx | y");
    }
}
