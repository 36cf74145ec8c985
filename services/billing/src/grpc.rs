//! The `mediabot.billing.v1.Billing` gRPC service: thin handlers that validate the request into domain
//! types, call the [`Ledger`], and convert the answer back. Error mapping lives in `error.rs`.

use mediabot_proto::billing::v1 as proto;
use proto::billing_server::{Billing, BillingServer};
use tonic::{Request, Response, Status};

use crate::api_keys::ApiKey;
use crate::domain::{
    self, AccountId, Balance, Entry, EntryKind, HoldCursor, HoldFilter, HoldOutcome, HoldState,
    IdempotencyKey, InvalidInput, JobId, PageCursor, PositiveAmount, ValidOperation,
};
use crate::ledger::Ledger;

/// The gRPC face of the ledger.
#[derive(Debug, Clone)]
pub struct BillingService {
    ledger: Ledger,
}

/// The generated server wrapping [`BillingService`] (the type health reporting is keyed on).
pub type Server = BillingServer<BillingService>;

/// Builds the tonic service for `ledger`.
pub fn make_server(ledger: Ledger) -> Server {
    BillingServer::new(BillingService { ledger })
}

impl BillingService {
    fn balance_to_proto(&self, balance: Balance) -> proto::Balance {
        proto::Balance {
            account_id: balance.account_id,
            balance_minor: balance.balance_minor,
            held_minor: balance.held_minor,
            available_minor: balance.available_minor(),
            currency: self.ledger.settings().currency.clone(),
        }
    }

    fn hold_to_proto(&self, outcome: HoldOutcome) -> proto::Hold {
        let hold = outcome.hold;
        let state = match hold.state {
            HoldState::Pending => proto::HoldState::Pending,
            HoldState::Captured => proto::HoldState::Captured,
            HoldState::Released => proto::HoldState::Released,
            HoldState::Expired => proto::HoldState::Expired,
        };
        proto::Hold {
            job_id: hold.job_id,
            account_id: hold.account_id,
            operation: hold.operation,
            amount_minor: hold.amount_minor,
            captured_minor: hold.captured_minor,
            state: state as i32,
            currency: self.ledger.settings().currency.clone(),
            available_minor: outcome.available_minor,
            expires_at_unix_ms: hold.expires_at_ms,
            created_at_unix_ms: hold.created_at_ms,
            settled_at_unix_ms: hold.settled_at_ms.unwrap_or_default(),
        }
    }

    fn entry_to_proto(&self, entry: Entry) -> proto::Operation {
        let kind = match entry.kind {
            EntryKind::WelcomeCredit => proto::EntryKind::WelcomeCredit,
            EntryKind::TopUp => proto::EntryKind::TopUp,
            EntryKind::Hold => proto::EntryKind::Hold,
            EntryKind::Capture => proto::EntryKind::Capture,
            EntryKind::Release => proto::EntryKind::Release,
            EntryKind::Expiry => proto::EntryKind::Expiry,
            EntryKind::Refund => proto::EntryKind::Refund,
            EntryKind::Adjustment => proto::EntryKind::Adjustment,
        };
        proto::Operation {
            entry_id: entry.id.to_string(),
            kind: kind as i32,
            amount_minor: entry.amount_minor,
            currency: self.ledger.settings().currency.clone(),
            reference: entry.reference,
            description: entry.description,
            created_at_unix_ms: entry.created_at_ms,
        }
    }
}

/// Longest accepted top-up source, in bytes.
const MAX_SOURCE_LEN: usize = 256;

#[tonic::async_trait]
impl Billing for BillingService {
    async fn get_balance(
        &self,
        request: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::Balance>, Status> {
        let account = AccountId::parse(request.get_ref().account_id)?;
        let balance = self.ledger.balance(account).await?;
        Ok(Response::new(self.balance_to_proto(balance)))
    }

    async fn reserve(
        &self,
        request: Request<proto::ReserveRequest>,
    ) -> Result<Response<proto::Hold>, Status> {
        let request = request.into_inner();
        let job = JobId::parse(&request.job_id)?;
        let account = AccountId::parse(request.account_id)?;
        let operation = ValidOperation::parse(request.operation)?;
        let outcome = self
            .ledger
            .reserve(&job, account, &operation, request.audio_duration_ms)
            .await?;
        Ok(Response::new(self.hold_to_proto(outcome)))
    }

    async fn capture(
        &self,
        request: Request<proto::CaptureRequest>,
    ) -> Result<Response<proto::Hold>, Status> {
        let request = request.into_inner();
        let job = JobId::parse(&request.job_id)?;
        if request.amount_minor.is_some_and(|a| a < 0) {
            return Err(InvalidInput::new("amount_minor", "must not be negative").into());
        }
        let outcome = self.ledger.capture(&job, request.amount_minor).await?;
        Ok(Response::new(self.hold_to_proto(outcome)))
    }

    async fn release(
        &self,
        request: Request<proto::ReleaseRequest>,
    ) -> Result<Response<proto::Hold>, Status> {
        let job = JobId::parse(&request.get_ref().job_id)?;
        let outcome = self.ledger.release(&job).await?;
        Ok(Response::new(self.hold_to_proto(outcome)))
    }

    async fn top_up(
        &self,
        request: Request<proto::TopUpRequest>,
    ) -> Result<Response<proto::TopUpResponse>, Status> {
        let request = request.into_inner();
        let account = AccountId::parse(request.account_id)?;
        let amount = PositiveAmount::parse("amount_minor", request.amount_minor)?;
        let key = IdempotencyKey::parse(&request.idempotency_key)?;
        if request.source.len() > MAX_SOURCE_LEN {
            return Err(
                InvalidInput::new("source", format!("at most {MAX_SOURCE_LEN} bytes")).into(),
            );
        }
        let outcome = self
            .ledger
            .top_up(account, amount, &key, &request.source)
            .await?;
        Ok(Response::new(proto::TopUpResponse {
            balance: Some(self.balance_to_proto(outcome.balance)),
            entry_id: outcome.entry_id.to_string(),
        }))
    }

    async fn list_operations(
        &self,
        request: Request<proto::ListOperationsRequest>,
    ) -> Result<Response<proto::ListOperationsResponse>, Status> {
        let request = request.into_inner();
        let account = AccountId::parse(request.account_id)?;
        let cursor = PageCursor::from_token(&request.page_token)?;
        let page = self
            .ledger
            .operations(account, domain::page_size(request.page_size), cursor)
            .await?;
        Ok(Response::new(proto::ListOperationsResponse {
            operations: page
                .entries
                .into_iter()
                .map(|e| self.entry_to_proto(e))
                .collect(),
            next_page_token: page.next.map(PageCursor::to_token).unwrap_or_default(),
        }))
    }

    async fn list_holds(
        &self,
        request: Request<proto::ListHoldsRequest>,
    ) -> Result<Response<proto::ListHoldsResponse>, Status> {
        let request = request.into_inner();
        let account = AccountId::parse(request.account_id)?;
        let cursor = HoldCursor::from_token(&request.page_token)?;
        let filter = HoldFilter {
            state: match request.state() {
                proto::HoldState::Unspecified => None,
                proto::HoldState::Pending => Some(HoldState::Pending),
                proto::HoldState::Captured => Some(HoldState::Captured),
                proto::HoldState::Released => Some(HoldState::Released),
                proto::HoldState::Expired => Some(HoldState::Expired),
            },
            job_id_suffix: HoldFilter::job_id_suffix(&request.job_id_suffix)?,
        };
        let page = self
            .ledger
            .holds(
                account,
                domain::page_size(request.page_size),
                cursor,
                &filter,
            )
            .await?;
        Ok(Response::new(proto::ListHoldsResponse {
            holds: page
                .holds
                .into_iter()
                .map(|hold| {
                    self.hold_to_proto(HoldOutcome {
                        hold,
                        available_minor: 0,
                    })
                })
                .collect(),
            next_page_token: page.next.map(|c| c.to_token()).unwrap_or_default(),
        }))
    }

    async fn list_prices(
        &self,
        _request: Request<proto::ListPricesRequest>,
    ) -> Result<Response<proto::ListPricesResponse>, Status> {
        let prices = self.ledger.prices().as_proto().to_vec();
        Ok(Response::new(proto::ListPricesResponse { prices }))
    }

    async fn issue_api_key(
        &self,
        request: Request<proto::IssueApiKeyRequest>,
    ) -> Result<Response<proto::IssueApiKeyResponse>, Status> {
        let account = AccountId::parse(request.get_ref().account_id)?;
        let issued = self.ledger.issue_api_key(account).await?;
        Ok(Response::new(proto::IssueApiKeyResponse {
            account_id: account.get(),
            api_key: issued.key.expose().to_string(),
            prefix: issued.key.prefix().to_string(),
            revoked: u32::try_from(issued.revoked).unwrap_or(u32::MAX),
        }))
    }

    async fn resolve_api_key(
        &self,
        request: Request<proto::ResolveApiKeyRequest>,
    ) -> Result<Response<proto::ResolveApiKeyResponse>, Status> {
        let key = ApiKey::parse(&request.get_ref().api_key)?;
        match self.ledger.resolve_api_key(&key).await? {
            Some((account_id, prefix)) => Ok(Response::new(proto::ResolveApiKeyResponse {
                account_id,
                prefix,
            })),
            None => Err(Status::not_found("unknown or revoked API key")),
        }
    }

    async fn revoke_api_keys(
        &self,
        request: Request<proto::RevokeApiKeysRequest>,
    ) -> Result<Response<proto::RevokeApiKeysResponse>, Status> {
        let account = AccountId::parse(request.get_ref().account_id)?;
        let revoked = self.ledger.revoke_api_keys(account).await?;
        Ok(Response::new(proto::RevokeApiKeysResponse {
            revoked: u32::try_from(revoked).unwrap_or(u32::MAX),
        }))
    }
}
