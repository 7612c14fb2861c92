import {
  Area,
  CartesianGrid,
  ComposedChart,
  ReferenceArea,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import { money, type SpendSeries } from "../../lib/agentCharts";
import { formatCompact } from "../../lib/format";

/** Daily spend with the FinOps agent's anomalies shaded and their days marked. */
export default function SpendChart({ series }: { series: SpendSeries }) {
  const first = series.points[0]?.day ?? "";
  const last = series.points[series.points.length - 1]?.day ?? "";
  return (
    <figure
      style={{ margin: 0, height: 260 }}
      role="img"
      data-chart="spend"
      aria-label={`Daily cloud spend from ${first} to ${last}, ${money(series.total, series.currency)} in all, ${series.anomalies.length} anomalies marked`}
    >
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={series.points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" vertical={false} />
          <XAxis dataKey="day" stroke="var(--text-muted)" fontSize={12} minTickGap={24} />
          <YAxis tickFormatter={formatCompact} stroke="var(--text-muted)" fontSize={12} width={52} />
          {series.anomalies.map((a) => (
            <ReferenceArea
              key={a.findingId}
              x1={a.start}
              x2={a.end}
              fill="var(--danger, #d64545)"
              fillOpacity={0.12}
              stroke="none"
            />
          ))}
          <Tooltip
            formatter={(value, name) => [money(Number(value), series.currency), String(name)]}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 8,
            }}
          />
          <Area
            type="monotone"
            dataKey="cost"
            name="spend"
            stroke="var(--blue-500)"
            fill="var(--blue-500)"
            fillOpacity={0.15}
            isAnimationActive={false}
          />
          <Scatter dataKey="anomaly" name="anomaly" fill="var(--danger, #d64545)" isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
