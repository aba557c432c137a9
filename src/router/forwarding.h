// What the router changes in a request on its way to an app, beyond framing
// (docs/router.md, "Headers"): the target in origin-form, the dashboard's session cookies
// removed, and the X-Forwarded-* fields written by the router itself unless the client is a
// proxy the route trusts. Pure functions over views; thread-compatible.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>

namespace lastgood {

// The target as the backend gets it and the host that routes it. Origin-form ("/p?q") and
// "*" (OPTIONS only) stay as they are and *host is left alone; an absolute-form target
// ("http://h:8080/p?q") gives "/p?q" (or "/" when it has no path, "/?q" for a bare query)
// and its authority becomes *host, as RFC 9112 3.2.2 asks of a server. False: a target the
// router does not forward (authority-form, "*" with another method, a scheme other than
// http/https, userinfo, an empty authority). `storage` backs *target when it is rebuilt.
bool NormaliseTarget(boost::beast::http::verb method, std::string_view* host,
                     std::string_view* target, std::string* storage);

// The Cookie value without the cookies named kSessionCookiePrefix…, into `out`. Returns
// false (and leaves `out` alone) when there is none to remove, the common case.
bool StripSessionCookies(std::string_view cookie, std::string* out);

// Request fields that only a trusted proxy may set: X-Forwarded-For/-Proto/-Host/-Port,
// Forwarded, X-Real-IP. From anyone else they are dropped and the router writes its own.
enum class ForwardingField { kNone, kFor, kProto, kHost, kOther };
ForwardingField ClassifyForwardingField(std::string_view name);

}  // namespace lastgood
