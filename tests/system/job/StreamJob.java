// A streaming job for the compose tests: an endless, slowed-down sequence
// with checkpoints every 2 s (set here: the interval is read by the client,
// which need not see the cluster's configuration), so a failover can be
// seen to restore from the last checkpoint.
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;

public class StreamJob {
    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(2000);
        env.fromSequence(0, Long.MAX_VALUE)
                .map(x -> {
                    Thread.sleep(1);
                    return x;
                })
                .returns(Types.LONG)
                .addSink(new DiscardingSink<>());
        env.execute("flink-appliance-stream");
    }
}
