// What recognising and recording AWS calls costs a request thread (xray/aws.hpp), next to what
// a plain HTTP call's subsegment costs.
//
//   BM_IdentifyPlainHttp: identify() on an ordinary request (the cost every non-AWS call of the
//     libcurl and Beast integrations pays to learn it is not one).
//   BM_IdentifyDynamoDb: identify() on a SigV4 DynamoDB request with X-Amz-Target.
//   BM_PlainRemoteCall: a `remote` subsegment with http.request and the status, begun and ended
//     under a sampled segment (the baseline).
//   BM_DynamoDbGetItemCall: begin_call + record_call for a GetItem (request body parsed for
//     TableName/ConsistentRead, response ids and ConsumedCapacity), begun and ended likewise.
//   BM_DynamoDbMissingTableCall: the same for a 400 ResourceNotFoundException (error, remote
//   cause).
//
// Build: cmake --preset bench && cmake --build build/bench && build/bench/bench/aws_bench
#include <benchmark/benchmark.h>

#include "bench_recorder.hpp"
#include "xray/aws.hpp"
#include "xray/recorder.hpp"

namespace {

using xray::bench::bench_recorder;

const xray::aws::Headers kPlainHeaders{{"Accept", "application/json"},
                                       {"Authorization", "Bearer abc"}};
const xray::aws::Headers kDynamoHeaders{{"X-Amz-Target", "DynamoDB_20120810.GetItem"}};
constexpr std::string_view kGetItemBody =
    R"({"TableName":"users","Key":{"id":{"S":"42"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"})";

xray::aws::HttpCall dynamo_request() {
  xray::aws::HttpCall call;
  call.method = "POST";
  call.host = "dynamodb.us-east-1.amazonaws.com";
  call.path = "/";
  call.headers = &kDynamoHeaders;
  call.body = kGetItemBody;
  call.sigv4 = "aws:amz:us-east-1:dynamodb";
  return call;
}

void BM_IdentifyPlainHttp(benchmark::State& state) {
  xray::aws::HttpCall call;
  call.method = "GET";
  call.host = "inventory.internal:8080";
  call.path = "/items/42";
  call.headers = &kPlainHeaders;
  for (auto _ : state) benchmark::DoNotOptimize(xray::aws::identify(call));
}
BENCHMARK(BM_IdentifyPlainHttp);

void BM_IdentifyDynamoDb(benchmark::State& state) {
  const xray::aws::HttpCall call = dynamo_request();
  for (auto _ : state) benchmark::DoNotOptimize(xray::aws::identify(call));
}
BENCHMARK(BM_IdentifyDynamoDb);

void BM_PlainRemoteCall(benchmark::State& state) {
  xray::Recorder& recorder = bench_recorder();
  auto segment = recorder.begin_segment("bench", xray::TraceHeader::parse("Sampled=1"));
  for (auto _ : state) {
    auto call = recorder.start_subsegment("inventory.internal", segment.context());
    call.set_namespace("remote");
    xray::HttpRequestInfo info;
    info.method = "GET";
    info.url = "http://inventory.internal:8080/items/42";
    call.set_http_request(std::move(info));
    benchmark::DoNotOptimize(call.outbound_header());
    call.set_http_status(200);
    call.set_http_content_length(60);
  }
}
BENCHMARK(BM_PlainRemoteCall);

void run_dynamo_call(benchmark::State& state, const xray::aws::CallOutcome& outcome) {
  xray::Recorder& recorder = bench_recorder();
  auto segment = recorder.begin_segment("bench", xray::TraceHeader::parse("Sampled=1"));
  const xray::aws::HttpCall request = dynamo_request();
  for (auto _ : state) {
    auto identity = xray::aws::identify(request);
    auto call = xray::aws::begin_call(recorder, *identity, segment.context());
    benchmark::DoNotOptimize(call.outbound_header());
    xray::aws::record_call(call, *identity, request, outcome);
  }
}

void BM_DynamoDbGetItemCall(benchmark::State& state) {
  xray::aws::CallOutcome outcome;
  outcome.status = 200;
  outcome.content_length = 120;
  outcome.response_headers = {
      {"x-amzn-RequestId", "T00HXT8I5CA20AKBOBH0HEXG5CFIZVLPBQAQZKSYHMFVXPDIKVA1"}};
  outcome.response_body =
      R"({"ConsumedCapacity":{"CapacityUnits":1,"TableName":"users"},"Item":{"id":{"S":"42"},"name":{"S":"Ada"}}})";
  run_dynamo_call(state, outcome);
}
BENCHMARK(BM_DynamoDbGetItemCall);

void BM_DynamoDbMissingTableCall(benchmark::State& state) {
  xray::aws::CallOutcome outcome;
  outcome.status = 400;
  outcome.content_length = 112;
  outcome.response_headers = {
      {"x-amzn-RequestId", "UBZMP005DKBL0ZLXXWCEELDQIY6METMHCVREUIVN0QVLNHBONRIL"}};
  outcome.response_body =
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
      R"("message":"Requested resource not found"})";
  run_dynamo_call(state, outcome);
}
BENCHMARK(BM_DynamoDbMissingTableCall);

}  // namespace

BENCHMARK_MAIN();
