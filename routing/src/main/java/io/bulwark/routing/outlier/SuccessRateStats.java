package io.bulwark.routing.outlier;

/**
 * The success-rate ejection threshold over the hosts with enough requests in an interval, as
 * Envoy computes it: population mean and standard deviation of their success rates (percent), and
 * {@code threshold = mean - stdevFactor * stdev}. A host whose rate is strictly below the threshold
 * is an outlier. Unlike Envoy, whose {@code stdev_factor} is an integer in thousandths, the factor is
 * used as written (1.9 means 1.9).
 */
record SuccessRateStats(double mean, double stdev, double threshold) {

    static SuccessRateStats of(double[] successRates, double stdevFactor) {
        double sum = 0;
        for (double rate : successRates) {
            sum += rate;
        }
        double mean = sum / successRates.length;
        double squares = 0;
        for (double rate : successRates) {
            squares += (rate - mean) * (rate - mean);
        }
        double stdev = Math.sqrt(squares / successRates.length);
        return new SuccessRateStats(mean, stdev, mean - stdevFactor * stdev);
    }
}
