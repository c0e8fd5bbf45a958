#pragma once
// A tracer installed for one test whose ended spans are collected in memory.
#include "telemetry/tracer.hpp"

#include <memory>
#include <vector>

namespace tomodachi::telemetry::test_support {

struct CollectingSink : SpanSink {
  std::vector<SpanData> spans;
  void on_end(SpanData&& span) override { spans.push_back(std::move(span)); }
};

struct Installed {
  std::shared_ptr<CollectingSink> sink = std::make_shared<CollectingSink>();
  explicit Installed(SamplerConfig sampler = {SamplerKind::always_on, 1.0}) {
    install_tracer(std::make_shared<Tracer>(Sampler(sampler), sink));
  }
  ~Installed() { install_tracer(nullptr); }
};

}  // namespace tomodachi::telemetry::test_support
