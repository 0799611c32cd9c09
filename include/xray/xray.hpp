// xray/xray.hpp: the AWS X-Ray SDK for C++. Include this header to get the whole core API.
#pragma once

#include "xray/config.hpp"
#include "xray/context.hpp"
#include "xray/daemon_address.hpp"
#include "xray/entity_scope.hpp"
#include "xray/errors.hpp"
#include "xray/http_request_info.hpp"
#include "xray/log.hpp"
#include "xray/plugin.hpp"
#include "xray/recorder.hpp"
#include "xray/sampling.hpp"
#include "xray/segment_scope.hpp"
#include "xray/sql_info.hpp"
#include "xray/stats.hpp"
#include "xray/subsegment_scope.hpp"
#include "xray/trace_header.hpp"
#include "xray/version.hpp"
