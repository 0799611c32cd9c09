// The spdlog pattern flag of xray/spdlog.hpp.
#include <utility>

#include "xray/spdlog.hpp"

namespace xray {

void SpdlogTraceIdFlag::format(const spdlog::details::log_msg&, const std::tm&,
                               spdlog::memory_buf_t& out) {
  const LogTraceId id = current_log_trace_id();
  std::string_view text = id.formatted();
  // Padding (%52k, %-52k, %=52k, with `!` to truncate) as spdlog's own flags do it, so that an
  // empty id can keep the columns aligned. (spdlog's padder is internal to its compiled library.)
  using Side = spdlog::details::padding_info::pad_side;
  std::size_t left = 0;
  std::size_t right = 0;
  if (padinfo_.enabled() && padinfo_.width_ > text.size()) {
    const std::size_t pad = padinfo_.width_ - text.size();
    left = padinfo_.side_ == Side::left ? pad : padinfo_.side_ == Side::center ? pad / 2 : 0;
    right = pad - left;
  } else if (padinfo_.enabled() && padinfo_.truncate_) {
    text = text.substr(0, padinfo_.width_);
  }
  for (; left > 0; --left) out.push_back(' ');
  out.append(text.data(), text.data() + text.size());
  for (; right > 0; --right) out.push_back(' ');
}

std::unique_ptr<spdlog::custom_flag_formatter> SpdlogTraceIdFlag::clone() const {
  return std::make_unique<SpdlogTraceIdFlag>();
}

std::unique_ptr<spdlog::pattern_formatter> make_spdlog_formatter(std::string pattern, char flag) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SpdlogTraceIdFlag>(flag).set_pattern(std::move(pattern));
  return formatter;
}

}  // namespace xray
