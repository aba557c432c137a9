// Reading `slots:` (named slots beside production, with autoSwap) and `swap:` (warm-up).
#include "base/names.h"
#include "history/model.h"
#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr int kMaxSlots = 20;
constexpr int kMaxWarmupStatuses = 20;

}  // namespace

Result<std::map<std::string, SlotOptions>> ReadSlots(const FieldReader& r, const Field& f) {
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::OpenFree(f));
  if (fields.entries().size() > static_cast<size_t>(kMaxSlots)) {
    return Error::InvalidInput("has more than " + std::to_string(kMaxSlots) + " slots", f.path,
                               f.line);
  }
  std::map<std::string, SlotOptions> slots;
  for (const auto& e : fields.entries()) {
    LG_RETURN_IF_ERROR(ValidateName(e.key, "slot name", e.value.path, e.value.key_line));
    if (e.key == kProductionSlot) {
      return Error::InvalidInput(
          "production is always there and takes no options; list only the other slots here",
          e.value.path, e.value.key_line);
    }
    SlotOptions options;
    if (!e.value.node.IsNull()) {
      MapFields opts;
      LG_MANIFEST_ASSIGN(opts, MapFields::Open(e.value, {"autoSwap"}));
      if (auto v = opts.Get("autoSwap")) LG_MANIFEST_ASSIGN(options.autoSwap, r.Bool(*v));
    }
    slots[e.key] = options;
  }
  return slots;
}

Result<SwapOptions> ReadSwap(const FieldReader& r, const Field& f) {
  SwapOptions swap;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"warmupPath", "warmupStatuses"}));
  if (auto v = fields.Get("warmupPath")) {
    LG_MANIFEST_ASSIGN(swap.warmupPath, r.NonEmptyString(*v));
    if (swap.warmupPath[0] != '/' || swap.warmupPath.size() > 1024) {
      return Error::InvalidInput("expected a path starting with '/', like /warmup, got '" +
                                     swap.warmupPath.substr(0, 64) + "'",
                                 v->path, v->line);
    }
  }
  if (auto v = fields.Get("warmupStatuses")) {
    if (!v->node.IsSequence() || v->node.size() == 0 ||
        v->node.size() > static_cast<size_t>(kMaxWarmupStatuses)) {
      return Error::InvalidInput("expected a list of 1 to 20 HTTP statuses, like [200, 202]",
                                 v->path, v->line);
    }
    for (size_t i = 0; i < v->node.size(); ++i) {
      int status = 0;
      LG_MANIFEST_ASSIGN(status, r.Int(v->Item(i, v->node[i]), 100, 599));
      swap.warmupStatuses.push_back(status);
    }
  }
  return swap;
}

}  // namespace lastgood::manifest_internal
