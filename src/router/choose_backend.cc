#include "router/choose_backend.h"

#include "router/traffic_split.h"

namespace lastgood {

BackendChoice ChooseBackend(const CompiledApp& app, const ListenerRoute& route,
                            const RouteRequest& request, ChoiceState state) {
  BackendChoice choice;
  // 1. A slot the client names: header, else query parameter, else cookie. With pinning
  // off only the split's own cookie counts, and only for a slot that is in the split now:
  // it keeps a client where the split put it, and names nothing the split does not offer.
  std::string_view cookie = CookieValue(request.cookie, kSlotCookie);
  std::string_view pin;
  bool from_query = false;
  if (app.pinning) {
    pin = request.slot_header;
    if (pin.empty()) {
      pin = QueryValue(request.target, kSlotQueryParameter);
      from_query = !pin.empty();
    }
  }
  if (pin.empty()) pin = cookie;
  if (!pin.empty()) {
    int named = app.FindSlot(pin);
    bool split_cookie = named >= 0 && pin == cookie && route.production && app.in_split[named];
    if (named >= 0 && (app.pinning || split_cookie)) {
      choice.slot = named;
      choice.pinned = named != route.slot && !split_cookie;
      if (from_query && pin != cookie) choice.set_cookie = app.slots[named].name;
    }
  }
  // 2. A new client of the production listener, when the app splits: by the shares, and
  // pinned there with a cookie.
  if (choice.slot < 0 && route.production && !app.split_slots.empty()) {
    int pick = PickSmoothWeighted(app.split_weights.data(), state.swrr + app.split_swrr,
                                  static_cast<int>(app.split_weights.size()));
    choice.slot = app.split_slots[pick];
    choice.set_cookie = app.slots[choice.slot].name;
  }
  // 3. The listener's slot.
  if (choice.slot < 0) choice.slot = route.slot;

  const CompiledSlot& slot = app.slots[choice.slot];
  int v = PickSmoothWeighted(slot.weights.data(), state.swrr + slot.swrr,
                             static_cast<int>(slot.weights.size()));
  if (v < 0) return choice;
  choice.version = &slot.versions[v];
  choice.first_backend =
      state.round_robin[choice.version->round_robin]++ % choice.version->backends.size();
  return choice;
}

}  // namespace lastgood
