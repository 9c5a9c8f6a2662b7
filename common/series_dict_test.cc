#include "common/series_dict.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace andon {
namespace {

using ::testing::HasSubstr;

v1::Point Point(const std::string& comm, uint64_t count) {
  v1::Point p;
  p.mutable_series()->set_metric("syscalls");
  v1::Label* l = p.mutable_series()->add_labels();
  l->set_name("comm");
  l->set_value(comm);
  p.set_window_start_ns(1000);
  p.set_window_ns(1000);
  p.mutable_value()->set_counter(count);
  return p;
}

v1::IngestBatch Batch(std::initializer_list<v1::Point> points) {
  v1::IngestBatch b;
  b.set_sender_id("h1");
  for (const v1::Point& p : points) *b.add_points() = p;
  return b;
}

TEST(SeriesDictTest, ASeriesCrossesOncePerStreamAndDecodesToTheSameBatch) {
  SeriesDictEncoder encoder;
  SeriesDictDecoder decoder;
  const v1::IngestBatch first = Batch({Point("nginx", 1), Point("bash", 2), Point("nginx", 3)});
  const v1::IngestBatch second = Batch({Point("bash", 4), Point("cron", 5)});

  v1::IngestBatch wire = first;
  encoder.Encode(wire);
  EXPECT_EQ(wire.series_defs_size(), 2);
  for (const v1::Point& p : wire.points()) {
    EXPECT_FALSE(p.has_series());
    EXPECT_NE(p.series_ref(), 0u);
  }
  EXPECT_LT(wire.ByteSizeLong(), first.ByteSizeLong());
  ASSERT_TRUE(decoder.Decode(wire).ok());
  EXPECT_EQ(wire.SerializeAsString(), first.SerializeAsString());
  decoder.Release(wire);

  wire = second;
  encoder.Encode(wire);
  ASSERT_EQ(wire.series_defs_size(), 1);  // only cron is new
  EXPECT_EQ(wire.series_defs(0).series().labels(0).value(), "cron");
  ASSERT_TRUE(decoder.Decode(wire).ok());
  EXPECT_EQ(wire.SerializeAsString(), second.SerializeAsString());
  decoder.Release(wire);
  // Released, the batch no longer holds the dictionary's keys: clearing it
  // leaves them whole for the next batch.
  wire.Clear();
  wire = Batch({Point("cron", 6)});
  encoder.Encode(wire);
  ASSERT_TRUE(decoder.Decode(wire).ok());
  EXPECT_EQ(wire.points(0).series().labels(0).value(), "cron");
  decoder.Release(wire);
}

TEST(SeriesDictTest, ABatchResentOnANewStreamIsEncodedAfresh) {
  SeriesDictEncoder old_stream;
  v1::IngestBatch wire = Batch({Point("nginx", 1)});
  old_stream.Encode(wire);
  wire = Batch({Point("nginx", 2)});
  old_stream.Encode(wire);
  EXPECT_EQ(wire.series_defs_size(), 0);
  // The stream failed; on the next one the batch defines its series again.
  SeriesDictEncoder new_stream;
  SeriesDictDecoder decoder;
  wire = Batch({Point("nginx", 2)});
  new_stream.Encode(wire);
  EXPECT_EQ(wire.series_defs_size(), 1);
  ASSERT_TRUE(decoder.Decode(wire).ok());
  EXPECT_EQ(wire.points(0).series().labels(0).value(), "nginx");
  decoder.Release(wire);
}

TEST(SeriesDictTest, BadReferencesAreRefusedSayingWhatToFix) {
  SeriesDictDecoder decoder;
  v1::IngestBatch b = Batch({Point("nginx", 1)});
  SeriesDictDecoder::Lent lent(decoder, b);
  b.mutable_points(0)->clear_series();
  b.mutable_points(0)->set_series_ref(7);
  absl::Status s = decoder.Decode(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("series_ref 7, which this stream has not defined"));

  b = Batch({Point("nginx", 1)});
  b.mutable_points(0)->set_series_ref(1);
  EXPECT_THAT(decoder.Decode(b).message(), HasSubstr("both a series and series_ref"));

  b = Batch({});
  b.add_series_defs()->set_ref(0);
  EXPECT_THAT(decoder.Decode(b).message(), HasSubstr("numbered 0"));
}

TEST(SeriesDictTest, PastTheBoundTheEncoderSendsWholeAndTheDecoderRefusesMore) {
  SeriesDictEncoder encoder;
  SeriesDictDecoder decoder;
  for (size_t i = 0; i < kMaxSeriesRefs + 10; i += 1000) {
    v1::IngestBatch b;
    for (size_t j = i; j < i + 1000; ++j) *b.add_points() = Point(std::to_string(j), j);
    const v1::IngestBatch whole = b;
    encoder.Encode(b);
    SeriesDictDecoder::Lent lent(decoder, b);
    ASSERT_TRUE(decoder.Decode(b).ok());
    ASSERT_EQ(b.SerializeAsString(), whole.SerializeAsString());
  }
  EXPECT_EQ(encoder.size(), kMaxSeriesRefs);
  EXPECT_EQ(decoder.size(), kMaxSeriesRefs);
  v1::IngestBatch more;
  v1::SeriesDef* def = more.add_series_defs();
  def->set_ref(static_cast<uint32_t>(kMaxSeriesRefs + 1));
  *def->mutable_series() = Point("x", 1).series();
  EXPECT_THAT(decoder.Decode(more).message(), HasSubstr("more than 65536 series"));
}

}  // namespace
}  // namespace andon
