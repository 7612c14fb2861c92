import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { formatCompact, formatNumber } from "../../lib/format";
import type { ThroughputPoint } from "../../lib/throughput";

export default function ThroughputChart({ points }: { points: ThroughputPoint[] }) {
  const total = points.reduce((sum, p) => sum + p.rows, 0);
  const runs = points.reduce((sum, p) => sum + p.runs, 0);
  return (
    <figure
      style={{ margin: 0, height: 240 }}
      role="img"
      aria-label={`Rows written by ${runs} sync runs over time, ${formatNumber(total)} in all`}
    >
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
          <XAxis
            dataKey="t"
            tickFormatter={(t: number) =>
              new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
            }
            stroke="var(--text-muted)"
            fontSize={12}
          />
          <YAxis tickFormatter={formatCompact} stroke="var(--text-muted)" fontSize={12} width={48} />
          <Tooltip
            labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
            formatter={(value, name) => [formatNumber(Number(value)), String(name)]}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 8,
            }}
          />
          <Bar dataKey="rows" name="rows written" fill="var(--green-500)" radius={[4, 4, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
