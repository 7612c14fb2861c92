import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { money, type Pipeline } from "../../lib/agentCharts";
import { formatCompact } from "../../lib/format";

/** Open amount and probability-weighted amount per stage, in funnel order (top down). */
export default function PipelineChart({ pipeline }: { pipeline: Pipeline }) {
  return (
    <figure
      style={{ margin: 0, height: Math.max(200, 36 * pipeline.stages.length + 60) }}
      role="img"
      data-chart="pipeline"
      aria-label={`Open pipeline over ${pipeline.stages.length} stages: ${pipeline.deals} deals, ${money(pipeline.amount, pipeline.currency)}, ${money(pipeline.weighted, pipeline.currency)} weighted`}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={pipeline.stages} layout="vertical" margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" horizontal={false} />
          <XAxis type="number" tickFormatter={formatCompact} stroke="var(--text-muted)" fontSize={12} />
          <YAxis
            type="category"
            dataKey="stage"
            stroke="var(--text-muted)"
            fontSize={12}
            width={130}
            interval={0}
          />
          <Tooltip
            formatter={(value, name) => [money(Number(value), pipeline.currency), String(name)]}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 8,
            }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="amount" name="open amount" fill="var(--purple-500)" radius={[0, 4, 4, 0]} isAnimationActive={false} />
          <Bar dataKey="weighted" name="weighted" fill="var(--green-500)" radius={[0, 4, 4, 0]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
