//! The request body's deadline: a client that sends its head and then drips its
//! body (a slow-body "slowloris") holds a connection and a worker's attention
//! for as long as it likes unless something stops it. actix cuts a slow head
//! (its client request timeout); this cuts a slow body. The whole body must
//! arrive within the deadline of the moment the request was routed; after it,
//! reading the body fails with [`timed_out`]'s error, the request is answered
//! 408 `request_timeout` with `Connection: close`, and the connection closes.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// `payload`, failing once `limit` has passed. A request without a body keeps
/// its empty payload (no timer).
pub(crate) fn within(payload: Payload, limit: Duration) -> Payload {
    if matches!(payload, Payload::None) {
        return payload;
    }
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: payload,
        sleep: Box::pin(actix_web::rt::time::sleep(limit)),
        secs: limit.as_secs().max(1),
        done: false,
    });
    Payload::from(stream)
}

/// The deadline's seconds when `e` is the error [`within`] yields after it.
pub(crate) fn timed_out(e: &PayloadError) -> Option<u64> {
    match e {
        PayloadError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<BodyTimedOut>())
            .map(|t| t.0),
        _ => None,
    }
}

/// The error inside the `io::Error` a late body yields.
#[derive(Debug)]
struct BodyTimedOut(u64);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {} s", self.0)
    }
}

impl std::error::Error for BodyTimedOut {}

struct Deadline {
    inner: Payload,
    sleep: Pin<Box<actix_web::rt::time::Sleep>>,
    secs: u64,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.done = true;
            let secs = self.secs;
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                BodyTimedOut(secs),
            )))));
        }
        Poll::Pending
    }
}
