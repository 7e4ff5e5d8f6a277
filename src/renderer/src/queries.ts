import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SettingKey } from '../../shared/settings';
import type { AllowRuleFields } from '../../shared/allowRule';
import { useEffect } from 'react';
import { api, subscribeEngineEvents } from './transport';
import type { Interval } from './timeRange';

/**
 * Every read and write the window makes, as react-query hooks. Reads that change on their own
 * (status, scores, the incident list, runs) are refreshed when the engine says they changed
 * (useEngineEvents), with a slow poll only as a fallback; writes invalidate what they change, so
 * a view never shows a state the engine has left.
 */
export const keys = {
  status: ['status'] as const,
  scores: (spanMs: number, maxPoints: number) => ['scores', spanMs, maxPoints] as const,
  incidents: ['incidents'] as const,
  incident: (id: number) => ['incident', id] as const,
  timeline: (from: number, to: number, buckets: number) => ['timeline', from, to, buckets] as const,
  portHistory: (proto: string, port: number, from: number, to: number) => ['portHistory', proto, port, from, to] as const,
  connections: (from: number, to: number, process: string | null, host: string | null) => ['connections', from, to, process, host] as const,
  runs: ['runs'] as const,
  models: ['models'] as const,
  settings: ['settings'] as const,
  report: (day: string | null) => ['report', day] as const,
  reports: ['reports'] as const,
  allowRules: ['allowRules'] as const,
};

/** The fallback poll: events do the work; this only covers a stream that died unnoticed. */
const POLL_MS = 60_000;
export const INCIDENT_PAGE = 200;

export function useStatus() {
  return useQuery({ queryKey: keys.status, queryFn: () => api.getStatus(), refetchInterval: POLL_MS });
}

/** Scores of the last `spanMs`, re-read as time moves on. */
export function useRecentScores(spanMs: number, maxPoints: number) {
  return useQuery({
    queryKey: keys.scores(spanMs, maxPoints),
    queryFn: () => {
      const to = Date.now();
      return api.listScores({ from: to - spanMs, to, maxPoints });
    },
    refetchInterval: POLL_MS * 3,
  });
}

/** Incidents newest first, a page at a time (paged by the id of the oldest one shown). */
export function useIncidentPages() {
  return useInfiniteQuery({
    queryKey: keys.incidents,
    queryFn: ({ pageParam }) => api.listIncidents(pageParam === null ? { limit: INCIDENT_PAGE } : { limit: INCIDENT_PAGE, beforeId: pageParam }),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => (last.length < INCIDENT_PAGE ? undefined : (last.at(-1)?.id ?? undefined)),
    refetchInterval: POLL_MS * 2,
  });
}

export function useIncident(id: number | null) {
  return useQuery({ queryKey: keys.incident(id ?? 0), queryFn: () => api.getIncident(id!), enabled: id !== null });
}

export function useSetIncidentStatus() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, status }: { id: number; status: 'seen' | 'expected' | 'dismissed' }) => api.setIncidentStatus(id, status),
    onSuccess: (_r, { id }) => {
      void client.invalidateQueries({ queryKey: keys.incidents });
      void client.invalidateQueries({ queryKey: keys.incident(id) });
      void client.invalidateQueries({ queryKey: keys.status });
    },
  });
}

/** Stops one of an incident's processes; the outcome is recorded on the incident, so it is re-read. */
export function useStopProcess() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, pid }: { id: number; pid: number }) => api.stopIncidentProcess(id, pid),
    onSettled: (_r, _e, { id }) => void client.invalidateQueries({ queryKey: keys.incident(id) }),
  });
}

export function useRevealExecutable() {
  return useMutation({ mutationFn: ({ id, pid }: { id: number; pid: number }) => api.revealExecutable(id, pid) });
}

export function useAllowRules() {
  return useQuery({ queryKey: keys.allowRules, queryFn: () => api.listAllowRules() });
}

export function useAddAllowRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: AllowRuleFields) => api.addAllowRule(input),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.allowRules }),
  });
}

export function useRemoveAllowRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.removeAllowRule(id),
    onSettled: () => void client.invalidateQueries({ queryKey: keys.allowRules }),
  });
}

export function useSnooze() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (until: number | null) => api.snoozeAlerts(until),
    onSuccess: (status) => client.setQueryData(keys.status, status),
  });
}

export function useSetPaused() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (paused: boolean) => api.setPaused(paused),
    onSuccess: (status) => client.setQueryData(keys.status, status),
  });
}

export function useTimeline(interval: Interval, buckets: number, enabled: boolean) {
  return useQuery({
    queryKey: keys.timeline(interval.from, interval.to, buckets),
    queryFn: () => api.portTimeline({ from: interval.from, to: interval.to, buckets, maxPorts: 500 }),
    enabled,
    placeholderData: (previous) => previous,
  });
}

export function usePortHistory(proto: 'tcp' | 'udp', port: number, interval: Interval) {
  return useQuery({
    queryKey: keys.portHistory(proto, port, interval.from, interval.to),
    queryFn: () => api.portHistory({ proto, port, from: interval.from, to: interval.to, buckets: 120 }),
  });
}

export function useDetectionRuns() {
  return useQuery({ queryKey: keys.runs, queryFn: () => api.listDetectionRuns({ limit: 500 }), refetchInterval: POLL_MS * 2 });
}

export function useModels() {
  return useQuery({ queryKey: keys.models, queryFn: () => api.listModels({ limit: 20 }) });
}

export function useDetectNow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.detectNow(),
    // A run changes scores, incidents, the model and the run list: read them all again.
    onSettled: () => void client.invalidateQueries(),
  });
}

export function useSettings() {
  return useQuery({ queryKey: keys.settings, queryFn: () => api.getSettings() });
}

export function useSetSetting() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ key, value }: { key: SettingKey; value: unknown }) => api.setSetting(key, value),
    onSuccess: (result) => {
      if (result.ok) void client.invalidateQueries({ queryKey: keys.settings });
    },
  });
}

/**
 * Refreshes what the engine's events say changed: every round or detection (`changed`) the
 * status, the scores and the runs; new incidents the incident list. Mounted once, by the app.
 */
export function useEngineEvents(): void {
  const client = useQueryClient();
  useEffect(() => {
    const refreshAll = () => void client.invalidateQueries();
    return subscribeEngineEvents((event) => {
      if (event.type === 'incidents') {
        void client.invalidateQueries({ queryKey: keys.incidents });
        void client.invalidateQueries({ queryKey: keys.status });
        return;
      }
      void client.invalidateQueries({ queryKey: keys.status });
      void client.invalidateQueries({ queryKey: ['scores'] });
      void client.invalidateQueries({ queryKey: keys.runs });
      void client.invalidateQueries({ queryKey: keys.models });
    }, refreshAll);
  }, [client]);
}

/** Who talked to whom in an interval, narrowed to a process name or a host. */
export function useConnections(interval: Interval, process: string | null, host: string | null) {
  return useQuery({
    queryKey: keys.connections(interval.from, interval.to, process, host),
    queryFn: () => api.listConnections({ from: interval.from, to: interval.to, ...(process ? { process } : {}), ...(host ? { host } : {}) }),
  });
}

/** A day's daily report (null: the newest); a kept report does not change, so it is read once. */
export function useReport(day: string | null) {
  return useQuery({ queryKey: keys.report(day), queryFn: () => api.getReport(day === null ? {} : { day }), staleTime: day === null ? POLL_MS : Infinity, retry: false });
}

/** The reports built, newest first, for the day picker. */
export function useReports() {
  return useQuery({ queryKey: keys.reports, queryFn: () => api.listReports({ limit: 90 }), refetchInterval: POLL_MS * 5 });
}
