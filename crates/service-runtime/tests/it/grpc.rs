use futures::StreamExt;
use service_runtime::grpc::{GrpcServer, bind};
use tokio_util::sync::CancellationToken;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::{v1, v1alpha};

async fn serve() -> (String, CancellationToken) {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(GrpcServer::new().unwrap().serve(listener, shutdown.clone()));
    (url, shutdown)
}

/// What `grpcurl -plaintext HOST:PORT list` does, over reflection v1 and v1alpha.
#[tokio::test]
async fn reflection_lists_every_mediabot_service_in_both_protocol_versions() {
    let (url, _shutdown) = serve().await;
    let channel = tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut responses = v1::server_reflection_client::ServerReflectionClient::new(channel.clone())
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a list: {response:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "mediabot.billing.v1.Billing",
        "mediabot.imaging.v1.Imaging",
        "mediabot.speech.v1.Speech",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }

    // `grpcurl describe`: the file defining a service, by symbol, over the older protocol version.
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "mediabot.billing.v1.Billing".into(),
            ),
        ),
    };
    let mut responses = v1alpha::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    match response.message_response {
        Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(
            files,
        )) => {
            assert!(!files.file_descriptor_proto.is_empty());
        }
        other => panic!("no descriptor for the billing service: {other:?}"),
    }
}

#[tokio::test]
async fn health_reports_the_process_serving_and_unknown_services_not_found() {
    let (url, shutdown) = serve().await;
    let mut health = HealthClient::new(
        tonic::transport::Endpoint::from_shared(url)
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    let overall = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overall.status, ServingStatus::Serving as i32);
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    shutdown.cancel();
}
