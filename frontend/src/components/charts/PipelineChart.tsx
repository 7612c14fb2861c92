import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { money, type Pipeline } from "../../lib/agentCharts";
import { formatCompact } from "../../lib/format";

/** Open amount and probability-weighted amount per stage, in funnel order. */
export default function PipelineChart({ pipeline }: { pipeline: Pipeline }) {
  return (
    <figure
      style={{ margin: 0, height: 260 }}
      role="img"
      data-chart="pipeline"
      aria-label={`Open pipeline over ${pipeline.stages.length} stages: ${pipeline.deals} deals, ${money(pipeline.amount, pipeline.currency)}, ${money(pipeline.weighted, pipeline.currency)} weighted`}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={pipeline.stages} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
          <XAxis dataKey="stage" stroke="var(--text-muted)" fontSize={12} interval={0} />
          <YAxis tickFormatter={formatCompact} stroke="var(--text-muted)" fontSize={12} width={52} />
          <Tooltip
            formatter={(value, name) => [money(Number(value), pipeline.currency), String(name)]}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 8,
            }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="amount" name="open amount" fill="var(--purple-500)" radius={[4, 4, 0, 0]} isAnimationActive={false} />
          <Bar dataKey="weighted" name="weighted" fill="var(--green-500)" radius={[4, 4, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
