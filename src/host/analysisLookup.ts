// Finds the latest cached analysis of a checkpoint for the hover.
import type * as vscode from 'vscode';
import type { AnalysisResult } from '../core/resultSchema';

export async function lookupCachedAnalysis(_context: vscode.ExtensionContext, _path: string): Promise<AnalysisResult | undefined> {
  return undefined;
}
