// Shared by the example jobs: holds each number back so that a job runs at
// a given rate (numbers per second per parallel instance).
import org.apache.flink.api.common.functions.MapFunction;

public class Pace implements MapFunction<Long, Long> {
    private final long micros;

    public Pace(long rate) {
        this.micros = 1_000_000L / rate;
    }

    @Override
    public Long map(Long n) throws Exception {
        Thread.sleep(micros / 1000, (int) (micros % 1000) * 1000);
        return n;
    }
}
