'use client';

import ShowChartIcon from '@mui/icons-material/ShowChart';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import { LineChart } from '@mui/x-charts/LineChart';
import { formatNumber } from '@/lib/format';

export type Point = readonly [time: number, value: number | null];

const HEIGHT = 240;

function tickFormatter(spanMs: number) {
  return (d: Date, context: { location: string }) => {
    if (context.location === 'tooltip') return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    if (spanMs > 36 * 3_600_000) return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
    return time;
  };
}

/**
 * One field of one agent over time. The card carries data-testid="chart-<field>" and
 * data-points (how many points are drawn) so tests can tell an empty chart from a drawn one.
 */
export function MetricChart({
  field,
  title,
  unit,
  color,
  points,
  from,
  to,
  loading,
}: {
  field: string;
  title: string;
  unit: string;
  color: string;
  points: readonly Point[];
  from: number;
  to: number;
  loading: boolean;
}) {
  // Points newer than `to` (an agent clock slightly ahead of the browser's) widen the window instead of vanishing.
  const visible = points.filter(([t]) => t >= from);
  const end = Math.max(to, visible.length > 0 ? visible[visible.length - 1]![0] : to);
  const values = visible.map(([, v]) => v);
  const latest = [...values].reverse().find((v): v is number => v !== null) ?? null;
  const drawn = values.filter((v) => v !== null).length;
  const maxValue = Math.max(0, ...values.filter((v): v is number => v !== null));
  const percent = unit === '%';

  return (
    <Card data-testid={`chart-${field}`} data-points={drawn} aria-busy={loading}>
      <CardContent>
        <Box sx={{ display: 'flex', alignItems: 'baseline', justifyContent: 'space-between', gap: 2 }}>
          <Typography variant="h3" component="h2">
            {title}
          </Typography>
          <Typography sx={{ fontWeight: 700, color }} data-testid={`chart-${field}-latest`}>
            {latest === null ? '—' : `${formatNumber(latest, 1)} ${unit}`}
          </Typography>
        </Box>
        <Box sx={{ height: HEIGHT, mt: 1, position: 'relative' }}>
          {loading && drawn === 0 ? (
            <Skeleton variant="rectangular" height={HEIGHT} sx={{ borderRadius: 1 }} />
          ) : drawn === 0 ? (
            <Box sx={{ height: '100%', display: 'grid', placeItems: 'center', color: 'text.secondary', textAlign: 'center' }}>
              <Box>
                <ShowChartIcon sx={{ fontSize: 36, opacity: 0.6 }} />
                <Typography variant="body2">No {title.toLowerCase()} data in this time range</Typography>
              </Box>
            </Box>
          ) : (
            <LineChart
              height={HEIGHT}
              skipAnimation
              hideLegend
              grid={{ horizontal: true }}
              margin={{ left: 0, right: 16, top: 8, bottom: 0 }}
              xAxis={[
                {
                  id: 'time',
                  scaleType: 'time',
                  data: visible.map(([t]) => new Date(t)),
                  min: new Date(from),
                  max: new Date(end),
                  valueFormatter: tickFormatter(end - from),
                  tickNumber: 6,
                },
              ]}
              yAxis={[
                {
                  id: 'value',
                  min: 0,
                  max: percent ? Math.max(100, Math.ceil(maxValue)) : undefined,
                  width: 44,
                  valueFormatter: (v: number) => (percent ? `${v}%` : formatNumber(v)),
                },
              ]}
              series={[
                {
                  id: field,
                  label: title,
                  data: values,
                  color,
                  area: true,
                  showMark: false,
                  curve: 'monotoneX',
                  valueFormatter: (v: number | null) => (v === null ? '—' : `${formatNumber(v, 2)} ${unit}`),
                },
              ]}
              sx={{ '& .MuiLineChart-area': { fillOpacity: 0.15 } }}
            />
          )}
        </Box>
      </CardContent>
    </Card>
  );
}
