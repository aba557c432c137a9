// Swaps (issue 4, App Service's deployment slots): the deployment record of a swap of one
// slot into another, shared by `lastgood swap` and a slot's autoSwap.
#pragma once

#include <string>

#include "engine/engine.h"

namespace lastgood {

// The Running deployment (kind swap, or rollback when it swaps back the pair that the last
// swap of `target` exchanged) that swaps `source` into `target` in `phase` ("swap",
// "preview", "complete", "cancel"), with its planned operations. Checks that both slots run
// a version, that a preview is pending for complete/cancel and not for swap/preview.
Result<Deployment> SwapDeployment(const EngineDeps& deps, const std::string& app,
                                  const std::string& source, const std::string& target,
                                  const std::string& phase, Trigger trigger,
                                  const std::string& actor);

// The source slot of a swap deployment (from its steps); "" if none.
std::string SwapSource(const Deployment& d);

}  // namespace lastgood
