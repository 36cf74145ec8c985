//! The gateway's operations table: which paid operations the bot offers for which kind of input, and how
//! each one starts (a button under an offer, or at once). Everything else about an operation — its id,
//! price key, queue, callback data, job id — comes from the catalog in `mediabot_proto::catalog`; its texts
//! are in [`i18n`](crate::i18n) (`operation_name`, `operation_button`), keyed by the operation id.
//!
//! Adding an operation to the bot is one row here plus its texts (and, outside the gateway, the catalog
//! case, the worker's module and a price line).

use mediabot_proto::jobs::v1::Operation;

/// What a user sent, as far as operations care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A photo (Telegram re-encoded it as JPEG).
    Photo,
    /// An image sent as a file (any format, uncompressed).
    ImageDocument,
    /// A voice note (OGG/Opus).
    Voice,
    /// An audio file, or a document with an `audio/*` type.
    Audio,
}

/// How an operation starts once its input arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// An inline button under an offer message; pressing it starts the job.
    Button,
    /// At once, with no question (voice notes are sent to be transcribed).
    Immediately,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// The operation and its parameters (a constructor, since `Operation` is not `const`).
    pub operation: fn() -> Operation,
    /// Inputs it is offered for.
    pub inputs: &'static [Input],
    /// How it starts.
    pub start: Start,
}

const IMAGES: &[Input] = &[Input::Photo, Input::ImageDocument];
const AUDIO: &[Input] = &[Input::Voice, Input::Audio];

/// Every operation the bot offers, in the order its buttons appear.
pub const OFFERS: &[Offer] = &[
    Offer {
        operation: || Operation::upscale(2),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: || Operation::upscale(4),
        inputs: IMAGES,
        start: Start::Button,
    },
    Offer {
        operation: || Operation::transcribe("auto"),
        inputs: AUDIO,
        start: Start::Immediately,
    },
];

/// The operations offered as buttons for `input`, in table order.
pub fn buttons_for(input: Input) -> Vec<Operation> {
    OFFERS
        .iter()
        .filter(|o| o.start == Start::Button && o.inputs.contains(&input))
        .map(|o| (o.operation)())
        .collect()
}

/// The operation started at once for `input`, if any.
pub fn immediate_for(input: Input) -> Option<Operation> {
    OFFERS
        .iter()
        .find(|o| o.start == Start::Immediately && o.inputs.contains(&input))
        .map(|o| (o.operation)())
}

/// Whether a button's operation (parsed from its callback data) is one this table offers for `input`, so
/// crafted callback data cannot start anything else.
pub fn is_offered(operation: &Operation, input: Input) -> bool {
    buttons_for(input).contains(operation)
}

/// Every operation in the table (for the price list shown by /start).
pub fn all() -> Vec<Operation> {
    OFFERS.iter().map(|o| (o.operation)()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_get_both_upscales_and_audio_is_transcribed() {
        assert_eq!(
            buttons_for(Input::Photo),
            vec![Operation::upscale(2), Operation::upscale(4)]
        );
        assert_eq!(buttons_for(Input::ImageDocument), buttons_for(Input::Photo));
        assert!(buttons_for(Input::Voice).is_empty());
        assert_eq!(
            immediate_for(Input::Voice),
            Some(Operation::transcribe("auto"))
        );
        assert_eq!(immediate_for(Input::Photo), None);
        assert!(is_offered(&Operation::upscale(4), Input::Photo));
        assert!(!is_offered(&Operation::transcribe("auto"), Input::Photo));
    }

    #[test]
    fn every_row_is_valid_and_fits_telegram_callback_data() {
        for operation in all() {
            assert_eq!(operation.validate(), Ok(()));
            assert!(operation.callback_data().len() <= 64);
            assert!(operation.service().is_some());
        }
    }
}
