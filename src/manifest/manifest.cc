#include "manifest/manifest.h"

namespace lastgood {

const char* StrategyName(Strategy::Type type) {
  switch (type) {
    case Strategy::Type::kRecreate:
      return "recreate";
    case Strategy::Type::kRolling:
      return "rolling";
    case Strategy::Type::kBlueGreen:
      return "bluegreen";
    case Strategy::Type::kCanary:
      return "canary";
  }
  return "rolling";
}

}  // namespace lastgood
