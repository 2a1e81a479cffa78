// Receipts arrive out of order and repeated: which one may replace the status kept.
#include "runtime/delivery_reports.h"

#include <gtest/gtest.h>

using switchboard::host::deliveryStatusAdvances;

TEST(DeliveryStatus, ProgressNeverMovesBack) {
    EXPECT_TRUE(deliveryStatusAdvances("", "queued"));
    EXPECT_TRUE(deliveryStatusAdvances("sent", "delivered"));
    EXPECT_TRUE(deliveryStatusAdvances("delivered", "delivered"));  // a repeat refreshes the detail
    EXPECT_FALSE(deliveryStatusAdvances("delivered", "sent"));
    EXPECT_FALSE(deliveryStatusAdvances("read", "delivered"));
    EXPECT_FALSE(deliveryStatusAdvances("read", "read"));
}

TEST(DeliveryStatus, FailuresAlwaysApplyAndOnlyArrivalUndoesThem) {
    EXPECT_TRUE(deliveryStatusAdvances("delivered", "undelivered"));
    EXPECT_TRUE(deliveryStatusAdvances("read", "failed"));
    EXPECT_FALSE(deliveryStatusAdvances("failed", "queued"));
    EXPECT_FALSE(deliveryStatusAdvances("undelivered", "sent"));
    EXPECT_TRUE(deliveryStatusAdvances("failed", "delivered"));
    EXPECT_TRUE(deliveryStatusAdvances("undelivered", "read"));
    EXPECT_TRUE(deliveryStatusAdvances("failed", "undelivered"));
}
