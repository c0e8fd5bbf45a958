#pragma once
/// @file
/// Everything a service file needs: `#include <tomodachi/tomodachi.hpp>`.
/// `tomodachi run` precompiles this header.

#include <tomodachi/amqp.hpp>
#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/context.hpp>
#include <tomodachi/delivery.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/error.hpp>
#include <tomodachi/health.hpp>
#include <tomodachi/http.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/main.hpp>
#include <tomodachi/message.hpp>
#include <tomodachi/options.hpp>
#include <tomodachi/schedule.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/task.hpp>
#include <tomodachi/validation.hpp>
#include <tomodachi/version.hpp>
#include <tomodachi/websocket.hpp>
