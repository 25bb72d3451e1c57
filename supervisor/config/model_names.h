// The parser's names for the model's types. The parser (this directory) builds a
// model::Config (model/config.h) and checks it with the model's resolver
// (model/resolve.h); inside wsgid::config those types are named unqualified.
// Everything outside the parser writes model::Config.
#pragma once

#include "model/config.h"
#include "model/resolve.h"
#include "supervisor/config/diagnostics.h"

namespace wsgid::config {

using model::AccessLine;
using model::AuthScript;
using model::Block;
using model::BlockAccess;
using model::Config;
using model::ExpandContext;
using model::GroupSpec;
using model::HandlerSettings;
using model::ImportScript;
using model::ListenAddr;
using model::ListenProtocol;
using model::protocol_from_name;
using model::LogFile;
using model::Mount;
using model::Resolver;
using model::Route;
using model::ScopeSettings;
using model::ScriptSplit;
using model::StaticAlias;
using model::VirtualHost;
using model::alias_match_length;
using model::directory_matches;
using model::expand_application_group;
using model::is_known_expansion;
using model::location_matches;

}  // namespace wsgid::config
