#include "ingest.hpp"

#include <utility>

namespace xray::local {

Ingest::Ingest(TraceStore& store, DocumentSink on_document, ProblemSink on_problem)
    : store_(store), on_document_(std::move(on_document)), on_problem_(std::move(on_problem)) {}

void Ingest::on_datagram(std::string_view bytes, bool truncated, double now) noexcept {
  try {
    Datagram parsed;
    if (truncated) parsed.problem = DatagramProblem::kTruncated;
    else parsed = parse_datagram(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++datagrams_;
      bytes_ += bytes.size();
      if (parsed.problem != DatagramProblem::kNone) {
        ++problems_[static_cast<std::size_t>(parsed.problem)];
        last_problem_ = parsed.problem;
        last_problem_bytes_ = bytes.size();
        last_problem_at_ = now;
      } else {
        ++accepted_;
        if (!parsed.unknown_fields.empty()) ++unknown_field_documents_;
        for (const std::string& name : parsed.unknown_fields) {
          auto found = unknown_field_names_.find(name);
          if (found != unknown_field_names_.end()) ++found->second;
          else if (unknown_field_names_.size() < 100) unknown_field_names_.emplace(name, 1);
        }
      }
    }
    if (parsed.problem != DatagramProblem::kNone) {
      if (on_problem_) on_problem_(parsed.problem, bytes.size());
      return;
    }
    if (on_document_) on_document_(parsed.document, bytes.substr(bytes.find('\n') + 1));
    store_.add(std::move(parsed.document), now);
  } catch (const std::exception&) {
    // Allocation failure or a sink that threw: this datagram is lost, the tool keeps serving.
  }
}

nlohmann::json Ingest::statistics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json problems = nlohmann::json::object();
  std::uint64_t rejected = 0;
  for (int i = 1; i < kDatagramProblemCount; ++i) {
    problems[std::string(to_string(static_cast<DatagramProblem>(i)))] = problems_[i];
    rejected += problems_[i];
  }
  nlohmann::json last = nullptr;
  if (last_problem_ != DatagramProblem::kNone) {
    last = {{"kind", to_string(last_problem_)}, {"bytes", last_problem_bytes_},
            {"at", last_problem_at_}};
  }
  return {{"datagrams", datagrams_},
          {"bytes", bytes_},
          {"accepted", accepted_},
          {"rejected", rejected},
          {"problems", std::move(problems)},
          {"unknown_fields", {{"documents", unknown_field_documents_},
                              {"names", unknown_field_names_}}},
          {"last_problem", std::move(last)}};
}

}  // namespace xray::local
