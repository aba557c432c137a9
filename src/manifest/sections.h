// Internal to manifest/: readers for the manifest's sections, each taking the section's
// field (its node, path and line) and returning the validated value or the first error.
#pragma once

#include "base/result.h"
#include "manifest/field_reader.h"
#include "manifest/manifest.h"

namespace lastgood::manifest_internal {

// Upper bounds that keep one manifest from asking for an absurd amount of anything.
inline constexpr int kMaxReplicas = 1000;
inline constexpr int kMaxFailureThreshold = 1000;
inline constexpr int kMaxCanarySteps = 100;

// `strategy:`, with the cross-field rules between type, rolling and canary.
Result<Strategy> ReadStrategy(const FieldReader& reader, const Field& field);

// `health:` (its `readiness:` probe, if any).
Result<std::optional<Probe>> ReadHealth(const FieldReader& reader, const Field& field);

// `route:`, with both addresses checked as host:port.
Result<Route> ReadRoute(const FieldReader& reader, const Field& field);

// A hook-shaped field ({command, timeout}), as under `hooks:`; nullopt when absent.
Result<std::optional<Hook>> ReadHookField(const FieldReader& reader,
                                          const std::optional<Field>& field);

// `slots:` (named slots and their options) and `swap:` (warm-up).
Result<std::map<std::string, SlotOptions>> ReadSlots(const FieldReader& reader, const Field& field);
Result<SwapOptions> ReadSwap(const FieldReader& reader, const Field& field);

// `notifications:` (its webhooks), with each url, event name and env var name checked.
inline constexpr int kMaxWebhooks = 10;
inline constexpr size_t kMaxWebhookUrlBytes = 2048;
Result<Notifications> ReadNotifications(const FieldReader& reader, const Field& field);

// An http:// or https:// URL without credentials or fragment, with a valid host and port
// (at most kMaxWebhookUrlBytes); `help` ends the error ("write http://host[:port]...").
Result<std::string> ReadHttpUrl(const FieldReader& reader, const Field& field, const char* help);

// `analysis.prometheus:` (docs/manifest.md): the address and the queries with their limits.
Result<PrometheusAnalysis> ReadPrometheus(const FieldReader& reader, const Field& field);

}  // namespace lastgood::manifest_internal
