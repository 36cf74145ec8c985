use futures::StreamExt;
use mediabot_proto::jobs::v1::Transcript;
use mediabot_proto::speech::v1::TranscribeRequest;
use mediabot_proto::speech::v1::speech_server::{Speech, SpeechServer};
use service_runtime::grpc::{GrpcServer, bind};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::{v1, v1alpha};

async fn serve_with(server: GrpcServer) -> (String, CancellationToken) {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    (url, shutdown)
}

async fn serve() -> (String, CancellationToken) {
    serve_with(GrpcServer::new().unwrap()).await
}

/// A Speech service that is never called: the tests only need its name on a server.
#[derive(Clone)]
struct NoSpeech;

#[tonic::async_trait]
impl Speech for NoSpeech {
    async fn transcribe(
        &self,
        _: tonic::Request<TranscribeRequest>,
    ) -> Result<tonic::Response<Transcript>, tonic::Status> {
        Err(tonic::Status::unimplemented("test"))
    }
}

async fn channel(url: String) -> Channel {
    tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `grpcurl list` over reflection v1 and over v1alpha; both must agree.
async fn listed_services(channel: &Channel) -> Vec<String> {
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
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut responses =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone())
            .server_reflection_info(futures::stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("not a list: {response:?}")
    };
    let mut alpha: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    alpha.sort();
    assert_eq!(names, alpha, "v1 and v1alpha list the same services");
    names
}

/// What `grpcurl -plaintext HOST:PORT list` shows: exactly the services this server serves (plus health and
/// reflection), not every service in the descriptor set; `describe` works over the older protocol.
#[tokio::test]
async fn reflection_lists_exactly_the_services_served_in_both_protocol_versions() {
    let server = GrpcServer::new()
        .unwrap()
        .add_service(SpeechServer::new(NoSpeech))
        .await;
    assert_eq!(
        server.service_names(),
        [
            "mediabot.speech.v1.Speech",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
    let (url, _shutdown) = serve_with(server).await;
    let channel = channel(url).await;
    assert_eq!(
        listed_services(&channel).await,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "mediabot.speech.v1.Speech",
        ],
        "no Billing or Jobs on a server that serves only Speech"
    );

    // `grpcurl describe`: the file defining a service, by symbol, over the older protocol version.
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "mediabot.speech.v1.Speech".into(),
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
        other => panic!("no descriptor for the speech service: {other:?}"),
    }
}

/// A server with no service of its own lists only health and reflection.
#[tokio::test]
async fn a_server_without_services_lists_only_health_and_reflection() {
    let (url, _shutdown) = serve().await;
    assert_eq!(
        listed_services(&channel(url).await).await,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
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
