//! Integration tests of the runtime crate: what operators' tools see of a gRPC server (health and
//! reflection), and the JetStream guarantees the job pipeline relies on (de-duplication, redelivery of a
//! dead worker's job), against a real nats-server.

mod grpc;
mod jetstream;
