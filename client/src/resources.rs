//! Account, pricing and API keys: one call each.

use crate::{Client, Error};
use usvideo_core::{response, Account, Call, CreatedApiKey, Endpoint, HttpRequest, HttpResponse, Jwt, PricingTable};

impl Client {
    /// Runs one call with the core's retry rules and returns its 2xx response.
    pub(crate) async fn call(&self, endpoint: Endpoint, request: HttpRequest) -> Result<HttpResponse, Error> {
        let mut call = Call::new(endpoint, request, self.inner.retry, self.inner.jitter_seed(), None, 0);
        self.inner.drive(&mut call, &mut |_| {}, None).await;
        call.take_result()
    }
}

/// `client.account()`.
#[derive(Debug)]
pub struct AccountResource<'a> {
    pub(crate) client: &'a Client,
}

impl AccountResource<'_> {
    /// Balance, usage and plan.
    ///
    /// # Errors
    /// Any API or connection error.
    pub async fn retrieve(&self) -> Result<Account, Error> {
        let req = self.client.inner.config.retrieve_account(self.client.key())?;
        response::parse_account(&self.client.call(Endpoint::Account, req).await?)
    }
}

/// `client.pricing()`.
#[derive(Debug)]
pub struct PricingResource<'a> {
    pub(crate) client: &'a Client,
}

impl PricingResource<'_> {
    /// The service's current pricing table (read exactly; no key needed).
    ///
    /// # Errors
    /// Any API or connection error.
    pub async fn retrieve(&self) -> Result<PricingTable, Error> {
        let req = self.client.inner.config.retrieve_pricing();
        response::parse_pricing(&self.client.call(Endpoint::Pricing, req).await?)
    }
}

/// `client.api_keys()`.
#[derive(Debug)]
pub struct ApiKeysResource<'a> {
    pub(crate) client: &'a Client,
}

impl ApiKeysResource<'_> {
    /// Creates an API key, authenticated with a JWT (not an API key). The key is shown once.
    ///
    /// # Errors
    /// A validation error on `jwt` or `name`, or any API or connection error.
    pub async fn create(&self, jwt: &str, name: Option<&str>) -> Result<CreatedApiKey, Error> {
        let jwt = Jwt::new(jwt).map_err(|i| Error::validation(vec![i]))?;
        let req = self.client.inner.config.create_api_key(&jwt, name)?;
        response::parse_created_api_key(&self.client.call(Endpoint::CreateApiKey, req).await?)
    }
}
