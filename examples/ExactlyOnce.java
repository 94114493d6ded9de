// The workload of the fault tests (make chaos), and an example of Flink's
// exactly-once path end to end: a checkpointed source of the numbers 1..N,
// a running count per key in keyed state, and files that Flink commits only
// with a checkpoint. Every number comes out exactly once however often the
// job restarts, as "n,key,count" lines, and every key's last count is how
// many of 1..N fall on it: tests/chaos/checker.py reads the committed files
// and says whether that held.
//
//   flink run --detached examples/streaming/ExactlyOnce.jar --output DIR [--count N]
//       [--rate R] [--keys K] [--checkpoint-interval MS]
//
// --output: a directory every TaskManager reaches (file:///var/lib/flink/...
// on the compose cluster's shared volume); --count: N (10000); --rate:
// numbers per second per parallel instance (100); --keys: K (16);
// --checkpoint-interval: milliseconds (2000). The job ends FINISHED once all
// N are committed.
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

public class ExactlyOnce {
    static String option(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--" + name)) {
                return args[i + 1];
            }
        }
        if (fallback == null) {
            throw new IllegalArgumentException("--" + name + " is missing: expected a directory every TaskManager reaches");
        }
        return fallback;
    }

    static long positive(String[] args, String name, long fallback) {
        String s = option(args, name, Long.toString(fallback));
        long v = Long.parseLong(s);
        if (v < 1) {
            throw new IllegalArgumentException("--" + name + " " + s + ": expected a positive integer");
        }
        return v;
    }

    public static void main(String[] args) throws Exception {
        String output = option(args, "output", null);
        long n = positive(args, "count", 10000);
        long rate = positive(args, "rate", 100);
        long keys = positive(args, "keys", 16);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(positive(args, "checkpoint-interval", 2000));
        FileSink<String> sink = FileSink.forRowFormat(new Path(output), new SimpleStringEncoder<String>("UTF-8"))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .build();
        env.fromSequence(1, n).uid("sequence").name("sequence 1.." + n)
                .map(new Pace(rate)).uid("pace").name("pace")
                .keyBy(x -> x % keys, Types.LONG)
                .map(new CountPerKey(keys)).uid("count").name("count per key")
                .map(t -> t.f0 + "," + t.f1 + "," + t.f2).returns(Types.STRING).uid("format").name("format")
                .sinkTo(sink).uid("files").name("files");
        env.execute("ExactlyOnce");
    }
}
