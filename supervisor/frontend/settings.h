// The front end's names for its settings message. The message and both its
// ends live in model/frontend_settings.h (protocol/PROTOCOL.md specifies it);
// the front end's modules (router, upstream, server, access log) name its types
// unqualified inside wsgid::frontend.
#pragma once

#include "model/frontend_settings.h"

namespace wsgid::frontend {

using Settings = model::FrontendSettings;
using model::GroupEndpoint;
using model::frontend_settings_from_json;
using model::listen_text;
using model::parse_listen_text;

}  // namespace wsgid::frontend
