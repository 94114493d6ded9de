// A small real Flink job for the end-to-end tests: doubles 1..n on the
// cluster and prints the sum the client collects back ("sum=<n*(n+1)>").
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

public class CountJob {
    public static void main(String[] args) throws Exception {
        long n = args.length > 0 ? Long.parseLong(args[0]) : 1000;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        long sum = 0;
        try (CloseableIterator<Long> it =
                env.fromSequence(1, n).map(x -> x * 2).returns(Types.LONG).executeAndCollect("flink-appliance-count")) {
            while (it.hasNext()) {
                sum += it.next();
            }
        }
        System.out.println("sum=" + sum);
    }
}
