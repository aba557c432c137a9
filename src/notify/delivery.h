// Internal to notify/: one POST of one delivery to one webhook, as an Asio coroutine.
//
// Not thread-safe by itself: PostOnce runs on the notifier's single io_context thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <string>

#include "base/duration.h"
#include "base/result.h"

namespace lastgood::notify_internal {

// Where a webhook's url points, split for connecting and for the request line.
struct WebhookTarget {
  bool tls = false;
  std::string host;         // for resolving: an IPv6 address without its brackets
  std::string port;         // "80" / "443" when the url gives none
  std::string target;       // path and query, "/" at least
  std::string host_header;  // host[:port] as written
  std::string label;        // scheme://host:port, for log lines (no path: it may hold tokens)
};

// Splits a url the manifest already validated; InvalidInput for anything else.
Result<WebhookTarget> ParseWebhookUrl(const std::string& url);

struct PostRequest {
  std::string event;
  std::string delivery_id;
  std::string signature;  // "sha256=…" or empty
  std::string body;
};

struct PostResult {
  int status = 0;     // the HTTP status, or 0 when none was received
  std::string error;  // why not, when status is 0
};

// Connects, sends the request and reads the response's head, all within `timeout`.
// `tls` is used for https targets (peer and host name verified).
boost::asio::awaitable<PostResult> PostOnce(const WebhookTarget& target, const PostRequest& request,
                                            Millis timeout, boost::asio::ssl::context& tls);

}  // namespace lastgood::notify_internal
