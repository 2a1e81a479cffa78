// Histograms in the Prometheus text format (exposition format 0.0.4): cumulative buckets with
// an le label after the series' own labels, a +Inf bucket equal to _count, _sum, one TYPE line.
#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace switchboard::host;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsHistogram, RendersCumulativeBucketsSumAndCount) {
    Metrics m;
    m.describeHistogram("x_seconds", "How long x takes", {0.5, 0.005, 1, 0.005});  // unsorted, repeated
    m.observe("x_seconds", {{"instance", "a\"b"}}, 0.001);
    m.observe("x_seconds", {{"instance", "a\"b"}}, 0.005);  // on a bound: counted in that bucket
    m.observe("x_seconds", {{"instance", "a\"b"}}, 0.7);
    m.observe("x_seconds", {{"instance", "a\"b"}}, 30);  // past every bound: +Inf only
    const std::string text = m.renderPrometheus();
    EXPECT_THAT(text, HasSubstr("# HELP x_seconds How long x takes\n# TYPE x_seconds histogram\n"));
    EXPECT_THAT(text, HasSubstr("x_seconds_bucket{instance=\"a\\\"b\",le=\"0.005\"} 2\n"
                                "x_seconds_bucket{instance=\"a\\\"b\",le=\"0.5\"} 2\n"
                                "x_seconds_bucket{instance=\"a\\\"b\",le=\"1\"} 3\n"
                                "x_seconds_bucket{instance=\"a\\\"b\",le=\"+Inf\"} 4\n"
                                "x_seconds_sum{instance=\"a\\\"b\"} 30.706\n"
                                "x_seconds_count{instance=\"a\\\"b\"} 4\n"));
    auto snap = m.histogram("x_seconds", {{"instance", "a\"b"}});
    EXPECT_EQ(snap.bounds, (std::vector<double>{0.005, 0.5, 1}));
    EXPECT_EQ(snap.buckets, (std::vector<uint64_t>{2, 2, 3}));
    EXPECT_EQ(snap.count, 4u);
}

TEST(MetricsHistogram, WithoutLabelsAndWithDefaultBuckets) {
    Metrics m;
    m.observe("y_seconds", {}, 0.02);
    const std::string text = m.renderPrometheus();
    EXPECT_THAT(text, HasSubstr("# TYPE y_seconds histogram\n"));
    EXPECT_THAT(text, HasSubstr("y_seconds_bucket{le=\"0.01\"} 0\ny_seconds_bucket{le=\"0.025\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("y_seconds_bucket{le=\"+Inf\"} 1\ny_seconds_sum 0.02\ny_seconds_count 1\n"));
    EXPECT_EQ(m.histogram("y_seconds", {}).bounds, secondsBuckets());
}

TEST(MetricsHistogram, ANameKeepsItsFirstType) {
    Metrics m;
    m.add("c_total", {});
    m.observe("c_total", {}, 1);  // ignored: a counter cannot become a histogram
    m.observe("h", {}, 1);
    m.add("h", {});  // ignored the other way round
    const std::string text = m.renderPrometheus();
    EXPECT_THAT(text, HasSubstr("# TYPE c_total counter\nc_total 1\n"));
    EXPECT_THAT(text, Not(HasSubstr("c_total_bucket")));
    EXPECT_THAT(text, HasSubstr("h_count 1\n"));
    EXPECT_THAT(text, Not(HasSubstr("\nh 1\n")));
    EXPECT_EQ(m.histogram("never", {}).count, 0u);
}
